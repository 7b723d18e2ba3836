// Short numbers: the administrator's inventory (add numbers, lease them to tenants, end leases) and a
// business's own numbers (its leases and fees; which campaign each number reaches).

import { getJson, send } from "../api.js";
import { announce, fill, h, notice, table } from "../dom.js";
import { showFailure } from "../page.js";

// Every word these pages show, in one place (to be translated).
const TEXT = {
  inventoryTitle: "Number inventory",
  inventoryHelp: "Every short number the provider has. Lease a number to a tenant from a day; its business can "
    + "then put it in its campaigns. Fees are monthly, without VAT; a lease’s first and last day count in full.",
  show: "Show",
  filter: "Which numbers",
  states: { all: "All numbers", free: "Free today", leased: "Leased today" },
  addTitle: "Add a number",
  number: "Number (3 or 4 digits)",
  klass: "Class",
  classes: { regular: "Regular", golden: "Golden" },
  channels: "Channels",
  channelNames: { both: "SMS and calls", sms: "SMS only", voice: "Calls only" },
  fee: "Monthly fee, UAH without VAT",
  add: "Add number",
  added: (n) => `Number ${n} is in the inventory.`,
  columns: { number: "Number", klass: "Class", channels: "Channels", fee: "Monthly fee", lease: "Lease",
    actions: "Actions", campaign: "Campaign", from: "From", until: "Until (last day)" },
  perMonth: (fee) => `${fee} UAH a month`,
  free: "Free",
  leasedTo: (tenant, lease) => `${tenant}: ${period(lease)}`,
  tenant: "Tenant",
  lease: "Lease",
  leaseFrom: "First day",
  leased: (n, tenant) => `Number ${n} is leased to ${tenant}.`,
  lastDay: "Last day",
  endLease: "End lease",
  ended: (n, day) => `The lease of ${n} ends on ${day}.`,
  noNumbers: "No numbers here.",
  mineTitle: "Your numbers",
  mineHelp: "The short numbers your provider leases to you, and the campaign each one reaches. A campaign file "
    + "may name only these numbers, on the channels of their lease.",
  noCampaign: "No campaign",
  pointed: (n, c) => (c ? `Number ${n} now reaches ${c}.` : `Number ${n} now reaches no campaign.`),
  noneLeased: "Your provider leases you no numbers yet.",
  untilEnded: "until ended",
};

function period(lease) {
  return `${TEXT.channelNames[lease.channels]}, ${lease.starts_on} – ${lease.ends_on || TEXT.untilEnded}`;
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
  const state = TEXT.states[query.get("state")] ? query.get("state") : "all";
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  const tenants = await getJson("/api/tenants", { signal });
  const tenantName = new Map(tenants.map((t) => [t.id, t.name]));
  const filter = h("form", { class: "card inline", role: "search", "aria-label": TEXT.filter },
    h("label", { for: "n-state" }, TEXT.show),
    h("select", { id: "n-state", name: "state" }, options(Object.entries(TEXT.states), state)),
    h("button", { type: "submit", class: "secondary" }, TEXT.show));
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/inventory?state=${filter.elements.state.value}`;
  });
  const add = actionForm({ class: "card", "aria-label": TEXT.addTitle }, [
    h("h2", {}, TEXT.addTitle),
    h("div", { class: "filters" }, h("div", { class: "fields" },
      h("div", {}, h("label", { for: "n-number" }, TEXT.number),
        h("input", { id: "n-number", name: "number", required: true, inputmode: "numeric", pattern: "[0-9]{3,4}",
          autocomplete: "off" })),
      h("div", {}, h("label", { for: "n-class" }, TEXT.klass),
        h("select", { id: "n-class", name: "class" }, options(Object.entries(TEXT.classes), "regular"))),
      h("div", {}, h("label", { for: "n-channels" }, TEXT.channels),
        h("select", { id: "n-channels", name: "channels" }, options(Object.entries(TEXT.channelNames), "both"))),
      h("div", {}, h("label", { for: "n-fee" }, TEXT.fee),
        h("input", { id: "n-fee", name: "monthly_fee_without_vat", value: "0.00", inputmode: "decimal",
          pattern: "[0-9]+(\\.[0-9]{1,2})?" })))),
    h("div", { class: "buttons" }, h("button", { type: "submit" }, TEXT.add)),
  ], async (fields) => {
    const made = await send("POST", "/api/inventory", { json: fields, signal });
    fill(feedback, notice("ok", TEXT.added(made.number)));
    announce(TEXT.added(made.number));
    add.reset();
    await draw();
  }, feedback);
  root.append(h("h1", {}, TEXT.inventoryTitle), h("p", { class: "help" }, TEXT.inventoryHelp), filter, add, feedback,
    list);

  const today = new Date().toLocaleDateString("en-CA", { timeZone: "Europe/Kyiv" });
  function leaseForm(n) {
    return actionForm({ class: "inline", "aria-label": `${TEXT.lease} ${n.number}` }, [
      h("select", { name: "tenant_id", "aria-label": `${TEXT.tenant} (${n.number})` },
        options(tenants.map((t) => [t.id, t.name]))),
      h("input", { type: "date", name: "starts_on", value: today, required: true,
        "aria-label": `${TEXT.leaseFrom} (${n.number})` }),
      h("button", { type: "submit" }, TEXT.lease),
    ], async (fields) => {
      await send("POST", `/api/inventory/${n.number}/leases`, { json: fields, signal });
      fill(feedback, notice("ok", TEXT.leased(n.number, tenantName.get(fields.tenant_id))));
      await draw();
    }, feedback);
  }
  function endForm(n) {
    return actionForm({ class: "inline", "aria-label": `${TEXT.endLease} ${n.number}` }, [
      h("input", { type: "date", name: "ends_on", value: n.lease.ends_on || today, required: true,
        "aria-label": `${TEXT.lastDay} (${n.number})` }),
      h("button", { type: "submit", class: "secondary" }, TEXT.endLease),
    ], async (fields) => {
      await send("POST", `/api/leases/${n.lease.id}/end`, { json: fields, signal });
      fill(feedback, notice("ok", TEXT.ended(n.number, fields.ends_on)));
      await draw();
    }, feedback);
  }

  async function draw() {
    const numbers = await getJson(`/api/inventory?state=${state}`, { signal });
    fill(list, table(TEXT.inventoryTitle, [
      { label: TEXT.columns.number, cell: (n) => h("strong", {}, n.number) },
      { label: TEXT.columns.klass, cell: (n) => TEXT.classes[n.class] || n.class },
      { label: TEXT.columns.channels, cell: (n) => TEXT.channelNames[n.channels] },
      { label: TEXT.columns.fee, cell: (n) => TEXT.perMonth(n.monthly_fee_without_vat) },
      { label: TEXT.columns.lease, cell: (n) => (n.lease ? TEXT.leasedTo(tenantName.get(n.lease.tenant_id)
        || n.lease.tenant_id, n.lease) : TEXT.free) },
      { label: TEXT.columns.actions, cell: (n) => (n.lease ? endForm(n) : leaseForm(n)) },
    ], numbers, TEXT.noNumbers));
  }
  await draw();
}

export async function myNumbersView(root, params, { signal }) {
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  root.append(h("h1", {}, TEXT.mineTitle), h("p", { class: "help" }, TEXT.mineHelp), feedback, list);
  const campaigns = await getJson("/api/campaigns", { signal });

  async function point(number, campaignId, control) {
    control.disabled = true;
    fill(feedback);
    try {
      await send("PUT", `/api/numbers/${number}`, { json: { campaign_id: campaignId || null }, signal });
      const name = campaigns.find((c) => c.id === campaignId)?.name;
      fill(feedback, notice("ok", TEXT.pointed(number, name)));
      announce(TEXT.pointed(number, name));
    } catch (error) {
      showFailure(error, feedback);
    } finally {
      control.disabled = false;
    }
  }

  const numbers = await getJson("/api/numbers", { signal });
  fill(list, table(TEXT.mineTitle, [
    { label: TEXT.columns.number, cell: (n) => h("strong", {}, n.number) },
    { label: TEXT.columns.klass, cell: (n) => TEXT.classes[n.class] || n.class },
    { label: TEXT.columns.channels, cell: (n) => TEXT.channelNames[n.lease.channels] },
    { label: TEXT.columns.fee, cell: (n) => TEXT.perMonth(n.monthly_fee_without_vat) },
    { label: TEXT.columns.from, cell: (n) => n.lease.starts_on },
    { label: TEXT.columns.until, cell: (n) => n.lease.ends_on || TEXT.untilEnded },
    { label: TEXT.columns.campaign, cell: (n) => h("select", {
      "aria-label": `${TEXT.columns.campaign} (${n.number})`,
      onchange: (event) => point(n.number, event.target.value, event.target),
    }, options([["", TEXT.noCampaign], ...campaigns.map((c) => [c.id, c.name])], n.campaign_id || "")) },
  ], numbers, TEXT.noneLeased));
}
