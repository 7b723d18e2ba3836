// Short numbers: the administrator's inventory (add numbers, lease them to tenants, end leases) and a
// business's own numbers (its leases and fees; which campaign each number reaches).

import { getJson, send } from "../api.js";
import { announce, fill, h, notice, table } from "../dom.js";
import { t } from "../i18n.js";
import { showFailure } from "../page.js";

// Texts picked by a field of the API's answers or a choice (catalogue keys, docs/i18n.md)
const STATES = { all: "numbers.states.all", free: "numbers.states.free", leased: "numbers.states.leased" };
const CLASSES = { regular: "numbers.classes.regular", golden: "numbers.classes.golden" };
const CHANNELS = { both: "numbers.channels.both", sms: "numbers.channels.sms", voice: "numbers.channels.voice" };

function period(lease) {
  return t("numbers.period", { channels: t(CHANNELS[lease.channels]), first: lease.starts_on,
    last: lease.ends_on || t("numbers.untilEnded") });
}

function classOf(n) {
  return CLASSES[n.class] ? t(CLASSES[n.class]) : n.class;
}

function choices(keys) {
  return Object.entries(keys).map(([value, key]) => [value, t(key)]);
}

function options(entries, selected) {
  return entries.map(([value, text]) => h("option", { value, selected: value === selected }, text));
}

/** A form whose submit runs `action(fields)` and reports into `feedback`; the button waits meanwhile. */
function actionForm(props, children, action, feedback) {
  const form = h("form", props, ...children);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    fill(feedback);
    try {
      await action(Object.fromEntries(new FormData(form)));
    } catch (error) {
      showFailure(error, feedback);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export async function inventoryView(root, { query }, { signal }) {
  const state = STATES[query.get("state")] ? query.get("state") : "all";
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  const tenants = await getJson("/api/tenants", { signal });
  const tenantName = new Map(tenants.map((x) => [x.id, x.name]));
  const filter = h("form", { class: "card inline", role: "search", "aria-label": t("numbers.filter") },
    h("label", { for: "n-state" }, t("numbers.show")),
    h("select", { id: "n-state", name: "state" }, options(choices(STATES), state)),
    h("button", { type: "submit", class: "secondary" }, t("numbers.show")));
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/inventory?state=${filter.elements.state.value}`;
  });
  const add = actionForm({ class: "card", "aria-label": t("numbers.addTitle") }, [
    h("h2", {}, t("numbers.addTitle")),
    h("div", { class: "filters" }, h("div", { class: "fields" },
      h("div", {}, h("label", { for: "n-number" }, t("numbers.number")),
        h("input", { id: "n-number", name: "number", required: true, inputmode: "numeric", pattern: "[0-9]{3,4}",
          autocomplete: "off" })),
      h("div", {}, h("label", { for: "n-class" }, t("numbers.class")),
        h("select", { id: "n-class", name: "class" }, options(choices(CLASSES), "regular"))),
      h("div", {}, h("label", { for: "n-channels" }, t("numbers.channelsLabel")),
        h("select", { id: "n-channels", name: "channels" }, options(choices(CHANNELS), "both"))),
      h("div", {}, h("label", { for: "n-fee" }, t("numbers.fee")),
        h("input", { id: "n-fee", name: "monthly_fee_without_vat", value: "0.00", inputmode: "decimal",
          pattern: "[0-9]+(\\.[0-9]{1,2})?" })))),
    h("div", { class: "buttons" }, h("button", { type: "submit" }, t("numbers.add"))),
  ], async (fields) => {
    const made = await send("POST", "/api/inventory", { json: fields, signal });
    const said = t("numbers.added", { number: made.number });
    fill(feedback, notice("ok", said));
    announce(said);
    add.reset();
    await draw();
  }, feedback);
  root.append(h("h1", {}, t("numbers.inventoryTitle")), h("p", { class: "help" }, t("numbers.inventoryHelp")), filter,
    add, feedback, list);

  const today = new Date().toLocaleDateString("en-CA", { timeZone: "Europe/Kyiv" });
  function leaseForm(n) {
    return actionForm({ class: "inline", "aria-label": t("numbers.leaseOf", { number: n.number }) }, [
      h("select", { name: "tenant_id", "aria-label": t("numbers.tenantOf", { number: n.number }) },
        options(tenants.map((x) => [x.id, x.name]))),
      h("input", { type: "date", name: "starts_on", value: today, required: true,
        "aria-label": t("numbers.firstDayOf", { number: n.number }) }),
      h("button", { type: "submit" }, t("numbers.lease")),
    ], async (fields) => {
      await send("POST", `/api/inventory/${n.number}/leases`, { json: fields, signal });
      fill(feedback, notice("ok", t("numbers.leased", { number: n.number, tenant: tenantName.get(fields.tenant_id) })));
      await draw();
    }, feedback);
  }
  function endForm(n) {
    return actionForm({ class: "inline", "aria-label": t("numbers.endLeaseOf", { number: n.number }) }, [
      h("input", { type: "date", name: "ends_on", value: n.lease.ends_on || today, required: true,
        "aria-label": t("numbers.lastDayOf", { number: n.number }) }),
      h("button", { type: "submit", class: "secondary" }, t("numbers.endLease")),
    ], async (fields) => {
      await send("POST", `/api/leases/${n.lease.id}/end`, { json: fields, signal });
      fill(feedback, notice("ok", t("numbers.ended", { number: n.number, day: fields.ends_on })));
      await draw();
    }, feedback);
  }

  async function draw() {
    const numbers = await getJson(`/api/inventory?state=${state}`, { signal });
    fill(list, table(t("numbers.inventoryTitle"), [
      { label: t("numbers.columns.number"), cell: (n) => h("strong", {}, n.number) },
      { label: t("numbers.columns.class"), cell: classOf },
      { label: t("numbers.columns.channels"), cell: (n) => t(CHANNELS[n.channels]) },
      { label: t("numbers.columns.fee"), cell: (n) => t("numbers.perMonth", { fee: n.monthly_fee_without_vat }) },
      { label: t("numbers.columns.lease"), cell: (n) => (n.lease ? t("numbers.leasedTo", {
        tenant: tenantName.get(n.lease.tenant_id) || n.lease.tenant_id, period: period(n.lease) })
        : t("numbers.free")) },
      { label: t("numbers.columns.actions"), cell: (n) => (n.lease ? endForm(n) : leaseForm(n)) },
    ], numbers, t("numbers.noNumbers")));
  }
  await draw();
}

export async function myNumbersView(root, params, { signal }) {
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  root.append(h("h1", {}, t("numbers.mineTitle")), h("p", { class: "help" }, t("numbers.mineHelp")), feedback, list);
  const campaigns = await getJson("/api/campaigns", { signal });

  async function point(number, campaignId, control) {
    control.disabled = true;
    fill(feedback);
    try {
      await send("PUT", `/api/numbers/${number}`, { json: { campaign_id: campaignId || null }, signal });
      const name = campaigns.find((c) => c.id === campaignId)?.name;
      const said = name ? t("numbers.pointed", { number, campaign: name }) : t("numbers.pointedNowhere", { number });
      fill(feedback, notice("ok", said));
      announce(said);
    } catch (error) {
      showFailure(error, feedback);
    } finally {
      control.disabled = false;
    }
  }

  const numbers = await getJson("/api/numbers", { signal });
  fill(list, table(t("numbers.mineTitle"), [
    { label: t("numbers.columns.number"), cell: (n) => h("strong", {}, n.number) },
    { label: t("numbers.columns.class"), cell: classOf },
    { label: t("numbers.columns.channels"), cell: (n) => t(CHANNELS[n.lease.channels]) },
    { label: t("numbers.columns.fee"), cell: (n) => t("numbers.perMonth", { fee: n.monthly_fee_without_vat }) },
    { label: t("numbers.columns.from"), cell: (n) => n.lease.starts_on },
    { label: t("numbers.columns.until"), cell: (n) => n.lease.ends_on || t("numbers.untilEnded") },
    { label: t("numbers.columns.campaign"), cell: (n) => h("select", {
      "aria-label": t("numbers.campaignOf", { number: n.number }),
      onchange: (event) => point(n.number, event.target.value, event.target),
    }, options([["", t("numbers.noCampaign")], ...campaigns.map((c) => [c.id, c.name])], n.campaign_id || "")) },
  ], numbers, t("numbers.noneLeased")));
}
