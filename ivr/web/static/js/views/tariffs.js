// Tariffs: how each number or campaign is priced, per channel. Administrators set them (a new tariff
// replaces the one in force for the same number or campaign and channel); a business reads its own.

import { getJson, send } from "../api.js";
import { announce, fill, h, notice, table, when } from "../dom.js";
import { t } from "../i18n.js";
import { showFailure } from "../page.js";

// Texts picked by a field of a tariff or a choice (catalogue keys, docs/i18n.md). A unit is written as it
// reads after "per" (per message, за хвилину), in the form's choice and in the price of a tariff alike.
const SCOPES = { number: "tariffs.scopes.number", campaign: "tariffs.scopes.campaign" };
const CHANNELS = { sms: "tariffs.channels.sms", voice: "tariffs.channels.voice" };
const KINDS = { subscriber_pays: "tariffs.kinds.subscriber_pays", business_pays: "tariffs.kinds.business_pays",
  premium: "tariffs.kinds.premium" };
const UNITS = { message: "tariffs.units.message", call: "tariffs.units.call", minute: "tariffs.units.minute" };

function choices(keys) {
  return Object.entries(keys).map(([value, key]) => [value, t(key)]);
}

function options(entries, selected) {
  return entries.map(([value, text]) => h("option", { value, selected: value === selected }, text));
}

function field(id, label, control) {
  return h("div", {}, h("label", { for: id }, label), control);
}

/** "kyivstar 45\n* 35" → {kyivstar: "45", "*": "35"} */
function parseShares(text) {
  const shares = {};
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const [operator, percent] = line.split(/[\s:=]+/);
    shares[operator] = (percent || "").replace("%", "").replace(",", ".");
  }
  return shares;
}

function describe(tariff) {
  const unit = UNITS[tariff.unit] ? t(UNITS[tariff.unit]) : tariff.unit;
  const parts = [];
  if (tariff.kind === "premium") parts.push(t("tariffs.priceWithVat", { price: tariff.price_with_vat, unit }));
  if (tariff.kind === "business_pays") parts.push(t("tariffs.costWithoutVat", { cost: tariff.cost_without_vat, unit }));
  if (tariff.outbound_cost_without_vat !== "0.00") {
    parts.push(t("tariffs.outboundWithoutVat", { cost: tariff.outbound_cost_without_vat }));
  }
  if (tariff.unit === "minute" && tariff.kind !== "subscriber_pays") {
    parts.push(t("tariffs.step", { s: tariff.increment_seconds }));
  }
  return parts.join("; ") || "—";
}

function period(tariff) {
  return tariff.valid_until ? t("tariffs.period", { from: when(tariff.valid_from), until: when(tariff.valid_until) })
    : t("tariffs.periodFrom", { from: when(tariff.valid_from) });
}

export async function tariffsView(root, params, { me, signal }) {
  const admin = me.role === "admin";
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  root.append(h("h1", {}, t("tariffs.title")), h("p", { class: "help" }, t("tariffs.help")));
  const [tenants, campaigns] = await Promise.all([admin ? getJson("/api/tenants", { signal }) : [],
    getJson("/api/campaigns", { signal })]);
  const tenantName = new Map(tenants.map((x) => [x.id, x.name]));
  const campaignName = new Map(campaigns.map((c) => [c.id, c.name]));
  if (admin) root.append(setForm());
  root.append(feedback, list);

  function setForm() {
    const scope = h("select", { id: "t-scope" }, options(choices(SCOPES), "campaign"));
    const tenant = h("select", { id: "t-tenant", name: "tenant_id" }, options(tenants.map((x) => [x.id, x.name])));
    const campaign = h("select", { id: "t-campaign", name: "campaign_id" });
    const number = h("input", { id: "t-number", name: "number", inputmode: "numeric", autocomplete: "off" });
    const channel = h("select", { id: "t-channel", name: "channel" }, options(choices(CHANNELS), "sms"));
    const unit = h("select", { id: "t-unit", name: "unit" });
    const shares = h("textarea", { id: "t-shares", name: "shares", rows: 3, placeholder: "kyivstar 45\nvodafone 40\n* 35" });
    const sync = () => {
      fill(campaign, options(campaigns.filter((c) => c.tenant_id === tenant.value).map((c) => [c.id, c.name])));
      fill(unit, options((channel.value === "sms" ? ["message"] : ["minute", "call"]).map((u) => [u, t(UNITS[u])])));
      campaign.parentElement.hidden = scope.value !== "campaign";
      number.parentElement.hidden = scope.value !== "number";
    };
    const form = h("form", { class: "card", "aria-label": t("tariffs.setTitle") }, h("h2", {}, t("tariffs.setTitle")),
      h("div", { class: "filters" }, h("div", { class: "fields" },
        field("t-tenant", t("tariffs.tenant"), tenant), field("t-scope", t("tariffs.scope"), scope),
        field("t-campaign", t("tariffs.campaign"), campaign), field("t-number", t("tariffs.number"), number),
        field("t-channel", t("tariffs.channel"), channel), field("t-kind", t("tariffs.kind"),
          h("select", { id: "t-kind", name: "kind" }, options(choices(KINDS), "premium"))),
        field("t-unit", t("tariffs.unit"), unit),
        field("t-price", t("tariffs.price"), h("input", { id: "t-price", name: "price_with_vat", inputmode: "decimal" })),
        field("t-cost", t("tariffs.cost"), h("input", { id: "t-cost", name: "cost_without_vat", inputmode: "decimal" })),
        field("t-outbound", t("tariffs.outbound"), h("input", { id: "t-outbound", name: "outbound_cost_without_vat",
          inputmode: "decimal" })),
        field("t-increment", t("tariffs.increment"), h("input", { id: "t-increment", name: "increment_seconds",
          type: "number", min: 1, max: 60, value: "60" })))),
      field("t-shares", t("tariffs.shares"), shares),
      h("div", { class: "buttons" }, h("button", { type: "submit" }, t("tariffs.set"))));
    for (const control of [scope, tenant, channel]) control.addEventListener("change", sync);
    sync();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      fill(feedback);
      const body = { tenant_id: tenant.value, channel: channel.value, kind: form.elements.kind.value,
        unit: unit.value, increment_seconds: Number(form.elements.increment_seconds.value) || 60,
        shares: parseShares(shares.value) };
      body[scope.value === "campaign" ? "campaign_id" : "number"] = scope.value === "campaign" ? campaign.value
        : number.value.trim();
      for (const name of ["price_with_vat", "cost_without_vat", "outbound_cost_without_vat"]) {
        const value = form.elements[name].value.trim().replace(",", ".");
        if (value) body[name] = value;
      }
      try {
        const made = await send("POST", "/api/tariffs", { json: body, signal });
        const said = t("tariffs.done", { id: String(made.id), time: when(made.valid_from) });
        fill(feedback, notice("ok", said));
        announce(said);
        await draw();
      } catch (error) {
        showFailure(error, feedback);
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  async function end(tariff, button) {
    button.disabled = true;
    fill(feedback);
    try {
      const ended = await send("DELETE", `/api/tariffs/${tariff.id}`, { signal });
      fill(feedback, notice("ok", t("tariffs.ended", { id: String(ended.id), time: when(ended.valid_until) })));
      await draw();
    } catch (error) {
      button.disabled = false;
      showFailure(error, feedback);
    }
  }

  async function draw() {
    const tariffs = await getJson("/api/tariffs", { signal });
    const columns = [
      { label: t("tariffs.columns.for"), cell: (x) => (x.campaign_id ? t("tariffs.forCampaign", {
        campaign: campaignName.get(x.campaign_id) || x.campaign_id }) : t("tariffs.forNumber", { number: x.number })) },
      { label: t("tariffs.columns.channel"), cell: (x) => t(CHANNELS[x.channel]) },
      { label: t("tariffs.columns.kind"), cell: (x) => t(KINDS[x.kind]) },
      { label: t("tariffs.columns.price"), cell: describe },
      { label: t("tariffs.columns.shares"), cell: (x) => Object.entries(x.shares).map(([op, p]) => `${op} ${p} %`)
        .join(", ") || "—" },
      { label: t("tariffs.columns.since"), cell: period },
    ];
    if (admin) {
      columns.unshift({ label: t("tariffs.columns.tenant"), cell: (x) => tenantName.get(x.tenant_id) || x.tenant_id });
      columns.push({ label: t("tariffs.columns.actions"), cell: (x) => !x.valid_until && h("button", { type: "button",
        class: "secondary", onclick: (event) => end(x, event.target), "aria-label": t("tariffs.endOf",
          { id: String(x.id) }) }, t("tariffs.end")) });
    }
    fill(list, table(t("tariffs.title"), columns, tariffs, t("tariffs.none")));
  }
  await draw();
}
