// Tariffs: how each number or campaign is priced, per channel. Administrators set them (a new tariff
// replaces the one in force for the same number or campaign and channel); a business reads its own.

import { getJson, send } from "../api.js";
import { announce, fill, h, notice, table, when } from "../dom.js";
import { showFailure } from "../page.js";

// Every word this page shows, in one place (to be translated).
const TEXT = {
  title: "Tariffs",
  help: "Premium prices are what subscribers pay, VAT included (1 to 50 UAH); the business gets its share of "
    + "the price without VAT, by the subscriber’s operator. Costs the business pays are without VAT. A new "
    + "tariff takes effect 10 seconds after it is set, on every server at once.",
  setTitle: "Set a tariff",
  tenant: "Tenant",
  scope: "For",
  scopes: { number: "A number", campaign: "A campaign" },
  number: "Number",
  campaign: "Campaign",
  channel: "Channel",
  channels: { sms: "SMS", voice: "Calls" },
  kind: "Who pays",
  kinds: { subscriber_pays: "The subscriber (normal price)", business_pays: "The business (free to the subscriber)",
    premium: "Premium: the subscriber pays our price" },
  unit: "Priced per",
  units: { message: "message", call: "call", minute: "minute" },
  price: "Premium price, UAH with VAT",
  cost: "Cost to the business per message, call or minute, UAH without VAT",
  outbound: "Cost per outbound SMS part, UAH without VAT",
  increment: "Calls per minute: billed in steps of (seconds; 60 = per started minute)",
  shares: "Business’s share by operator, % of the price without VAT (one per line: operator percent; * for the rest)",
  set: "Put in force",
  done: (t) => `Tariff ${t.id} takes effect at ${when(t.valid_from)}.`,
  columns: { tenant: "Tenant", for: "For", channel: "Channel", kind: "Who pays", price: "Price / cost",
    shares: "Shares", since: "In force", actions: "Actions" },
  period: (t) => (t.valid_until ? `${when(t.valid_from)} – ${when(t.valid_until)}` : `from ${when(t.valid_from)}`),
  priceWithVat: (p, unit) => `${p} UAH per ${unit} with VAT`,
  costWithoutVat: (c, unit) => `${c} UAH per ${unit} without VAT`,
  outboundWithoutVat: (c) => `outbound SMS: ${c} UAH per part without VAT`,
  step: (s) => `billed per ${s} s`,
  none: "No tariffs in force.",
  end: "Take out of force",
  ended: (t) => `Tariff ${t.id} goes out of force at ${when(t.valid_until)}.`,
};

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

function describe(t) {
  const unit = TEXT.units[t.unit];
  const parts = [];
  if (t.kind === "premium") parts.push(TEXT.priceWithVat(t.price_with_vat, unit));
  if (t.kind === "business_pays") parts.push(TEXT.costWithoutVat(t.cost_without_vat, unit));
  if (t.outbound_cost_without_vat !== "0.00") parts.push(TEXT.outboundWithoutVat(t.outbound_cost_without_vat));
  if (t.unit === "minute" && t.kind !== "subscriber_pays") parts.push(TEXT.step(t.increment_seconds));
  return parts.join("; ") || "—";
}

export async function tariffsView(root, params, { me, signal }) {
  const admin = me.role === "admin";
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  root.append(h("h1", {}, TEXT.title), h("p", { class: "help" }, TEXT.help));
  const [tenants, campaigns] = await Promise.all([admin ? getJson("/api/tenants", { signal }) : [],
    getJson("/api/campaigns", { signal })]);
  const tenantName = new Map(tenants.map((t) => [t.id, t.name]));
  const campaignName = new Map(campaigns.map((c) => [c.id, c.name]));
  if (admin) root.append(setForm());
  root.append(feedback, list);

  function setForm() {
    const scope = h("select", { id: "t-scope" }, options(Object.entries(TEXT.scopes), "campaign"));
    const tenant = h("select", { id: "t-tenant", name: "tenant_id" }, options(tenants.map((t) => [t.id, t.name])));
    const campaign = h("select", { id: "t-campaign", name: "campaign_id" });
    const number = h("input", { id: "t-number", name: "number", inputmode: "numeric", autocomplete: "off" });
    const channel = h("select", { id: "t-channel", name: "channel" }, options(Object.entries(TEXT.channels), "sms"));
    const unit = h("select", { id: "t-unit", name: "unit" });
    const shares = h("textarea", { id: "t-shares", name: "shares", rows: 3, placeholder: "kyivstar 45\nvodafone 40\n* 35" });
    const sync = () => {
      fill(campaign, options(campaigns.filter((c) => c.tenant_id === tenant.value).map((c) => [c.id, c.name])));
      fill(unit, options((channel.value === "sms" ? ["message"] : ["minute", "call"]).map((u) => [u, TEXT.units[u]])));
      campaign.parentElement.hidden = scope.value !== "campaign";
      number.parentElement.hidden = scope.value !== "number";
    };
    const form = h("form", { class: "card", "aria-label": TEXT.setTitle }, h("h2", {}, TEXT.setTitle),
      h("div", { class: "filters" }, h("div", { class: "fields" },
        field("t-tenant", TEXT.tenant, tenant), field("t-scope", TEXT.scope, scope),
        field("t-campaign", TEXT.campaign, campaign), field("t-number", TEXT.number, number),
        field("t-channel", TEXT.channel, channel), field("t-kind", TEXT.kind,
          h("select", { id: "t-kind", name: "kind" }, options(Object.entries(TEXT.kinds), "premium"))),
        field("t-unit", TEXT.unit, unit),
        field("t-price", TEXT.price, h("input", { id: "t-price", name: "price_with_vat", inputmode: "decimal" })),
        field("t-cost", TEXT.cost, h("input", { id: "t-cost", name: "cost_without_vat", inputmode: "decimal" })),
        field("t-outbound", TEXT.outbound, h("input", { id: "t-outbound", name: "outbound_cost_without_vat",
          inputmode: "decimal" })),
        field("t-increment", TEXT.increment, h("input", { id: "t-increment", name: "increment_seconds", type: "number",
          min: 1, max: 60, value: "60" })))),
      field("t-shares", TEXT.shares, shares),
      h("div", { class: "buttons" }, h("button", { type: "submit" }, TEXT.set)));
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
        fill(feedback, notice("ok", TEXT.done(made)));
        announce(TEXT.done(made));
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
      fill(feedback, notice("ok", TEXT.ended(ended)));
      await draw();
    } catch (error) {
      button.disabled = false;
      showFailure(error, feedback);
    }
  }

  async function draw() {
    const tariffs = await getJson("/api/tariffs", { signal });
    const columns = [
      { label: TEXT.columns.for, cell: (t) => (t.campaign_id ? `${TEXT.campaign} ${campaignName.get(t.campaign_id)
        || t.campaign_id}` : `${TEXT.number} ${t.number}`) },
      { label: TEXT.columns.channel, cell: (t) => TEXT.channels[t.channel] },
      { label: TEXT.columns.kind, cell: (t) => TEXT.kinds[t.kind] },
      { label: TEXT.columns.price, cell: describe },
      { label: TEXT.columns.shares, cell: (t) => Object.entries(t.shares).map(([op, p]) => `${op} ${p} %`).join(", ")
        || "—" },
      { label: TEXT.columns.since, cell: TEXT.period },
    ];
    if (admin) {
      columns.unshift({ label: TEXT.columns.tenant, cell: (t) => tenantName.get(t.tenant_id) || t.tenant_id });
      columns.push({ label: TEXT.columns.actions, cell: (t) => !t.valid_until && h("button", { type: "button",
        class: "secondary", onclick: (event) => end(t, event.target), "aria-label": `${TEXT.end}: ${t.id}` },
      TEXT.end) });
    }
    fill(list, table(TEXT.title, columns, tariffs, TEXT.none));
  }
  await draw();
}
