// Money: a tenant's monthly statement (fees + usage − revenue share), every tenant's month for
// administrators, and one campaign's revenue and cost day by day. Amounts come from the API as exact
// decimal strings and are shown as they are (never turned into floating-point numbers).

import { blobUrl, getJson } from "../api.js";
import { download, fill, h, link, table } from "../dom.js";
import { showFailure } from "../page.js";

// Every word these pages show, in one place (to be translated).
const TEXT = {
  title: "Statement",
  overviewTitle: "Every tenant’s month",
  month: "Month",
  chooseMonth: "Choose the month",
  chooseDays: "Choose the days",
  show: "Show",
  help: "Fees and usage are what you pay, without VAT; revenue is what subscribers paid for premium messages "
    + "and calls, VAT included; your share of it is without VAT. Balance = fees + usage − share: when it is "
    + "below zero, the provider pays you.",
  totals: {
    fees_without_vat: "Monthly fees (without VAT)",
    usage_without_vat: "Usage (without VAT)",
    charges_without_vat: "Total to pay (without VAT)",
    vat: "VAT",
    charges_with_vat: "Total to pay (with VAT)",
    revenue_with_vat: "Premium revenue paid by subscribers (with VAT)",
    share_without_vat: "Your share of it (without VAT)",
    balance_without_vat: "Balance: total − share (without VAT)",
  },
  items: {
    monthly_fee: "Monthly fee", sms_premium: "Premium SMS", sms_business_paid: "SMS paid by you",
    sms_outbound: "Outbound SMS parts", call_premium: "Premium calls", call_business_paid: "Calls paid by you",
  },
  units: { month: "month", message: "SMS", part: "parts", call: "calls" },
  talked: (calls, seconds) => `${calls} calls, ${Math.floor(seconds / 60)} min ${seconds % 60} s billed`,
  noDays: "Nothing was charged on these days.",
  columns: { number: "Number", campaign: "Campaign", item: "What", operator: "Operator", quantity: "Quantity",
    amount: "To pay (without VAT)", revenue: "Revenue (with VAT)", share: "Your share (without VAT)",
    tenant: "Tenant", balance: "Balance (without VAT)", day: "Day", events: "Charged events",
    cost: "Cost (without VAT)" },
  lines: "Lines",
  noLines: "Nothing was charged this month.",
  csv: "Download the statement (CSV)",
  overviewHelp: "Totals of every tenant with charges this month; open one for its statement.",
  noTenants: "No tenant has charges this month.",
  campaignTitle: (name) => `Money of ${name}`,
  since: "From",
  until: "Until (not included)",
  campaignCsv: "Download these days (CSV)",
  money: "Money",
  notFound: "Campaign not found",
  allCampaigns: "Back to your campaigns",
  campaignTotals: (t) => `${t.events} charged events · revenue ${t.revenue_with_vat} UAH (with VAT) · your share `
    + `${t.share_without_vat} UAH · cost ${t.cost_without_vat} UAH (without VAT)`,
};

function thisMonth() {
  return new Date().toLocaleDateString("en-CA", { timeZone: "Europe/Kyiv" }).slice(0, 7);
}

function uah(amount) {
  return `${amount} UAH`;
}

function quantity(line) {
  if (line.unit === "second") return TEXT.talked(line.events, line.quantity);
  return `${line.quantity} ${TEXT.units[line.unit] || line.unit}`;
}

function monthForm(month, extra, go) {
  const input = h("input", { id: "m-month", type: "month", name: "month", value: month, required: true });
  const form = h("form", { class: "card inline", role: "search", "aria-label": TEXT.chooseMonth },
    h("label", { for: "m-month" }, TEXT.month), input, h("button", { type: "submit", class: "secondary" }, TEXT.show));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(new URLSearchParams({ ...extra, month: input.value }));
  });
  return form;
}

export async function statementView(root, { query }, { me, signal }) {
  const month = /^\d{4}-\d{2}$/.test(query.get("month") || "") ? query.get("month") : thisMonth();
  const tenant = query.get("tenant");
  if (me.role === "admin" && !tenant) {
    await overview(root, month, signal);
    return;
  }
  const scope = new URLSearchParams({ month, ...(tenant ? { tenant } : {}) });
  const [statement, campaigns, tenants] = await Promise.all([getJson(`/api/statement?${scope}`, { signal }),
    getJson("/api/campaigns", { signal }), me.role === "admin" ? getJson("/api/tenants", { signal }) : []]);
  const names = new Map(campaigns.map((c) => [c.id, c.name]));
  const tenantName = tenants.find((t) => t.id === tenant)?.name;
  const feedback = h("div");
  root.append(h("h1", {}, tenantName ? `${TEXT.title}: ${tenantName}` : TEXT.title),
    h("p", { class: "help" }, TEXT.help),
    monthForm(month, tenant ? { tenant } : {}, (q) => { location.hash = `#/statement?${q}`; }),
    h("section", { class: "card", "aria-label": TEXT.title },
      h("h2", {}, `${TEXT.title} ${statement.month}`),
      h("dl", { class: "facts" }, Object.entries(TEXT.totals).map(([name, label]) => [h("div", {},
        h("dt", {}, name === "vat" ? `${label} ${statement.vat_percent} %` : label),
        h("dd", { "data-total": name }, uah(statement.totals[name])))])),
      h("p", {}, h("button", { type: "button", class: "link", onclick: async () => {
        try {
          download(await blobUrl(`/api/statement.csv?${scope}`), `statement-${month}.csv`);
        } catch (error) {
          showFailure(error, feedback);
        }
      } }, TEXT.csv))),
    feedback,
    h("h2", {}, TEXT.lines),
    table(TEXT.lines, [
      { label: TEXT.columns.number, cell: (l) => l.number },
      { label: TEXT.columns.campaign, cell: (l) => (l.campaign_id ? link(`campaigns/${encodeURIComponent(
        l.campaign_id)}/money?since=${month}-01`, names.get(l.campaign_id) || l.campaign_id) : "—") },
      { label: TEXT.columns.item, cell: (l) => TEXT.items[l.item] || l.item },
      { label: TEXT.columns.operator, cell: (l) => l.operator || "—" },
      { label: TEXT.columns.quantity, cell: quantity },
      { label: TEXT.columns.amount, cell: (l) => uah(l.amount_without_vat) },
      { label: TEXT.columns.revenue, cell: (l) => uah(l.revenue_with_vat) },
      { label: TEXT.columns.share, cell: (l) => uah(l.share_without_vat) },
    ], statement.lines, TEXT.noLines));
}

async function overview(root, month, signal) {
  const { tenants } = await getJson(`/api/statements?month=${month}`, { signal });
  root.append(h("h1", {}, TEXT.overviewTitle), h("p", { class: "help" }, TEXT.overviewHelp),
    monthForm(month, {}, (q) => { location.hash = `#/statement?${q}`; }),
    table(TEXT.overviewTitle, [
      { label: TEXT.columns.tenant, cell: (t) => link(`statement?month=${month}&tenant=${encodeURIComponent(
        t.tenant_id)}`, t.tenant || t.tenant_id) },
      { label: TEXT.totals.charges_without_vat, cell: (t) => uah(t.charges_without_vat) },
      { label: TEXT.totals.charges_with_vat, cell: (t) => uah(t.charges_with_vat) },
      { label: TEXT.totals.revenue_with_vat, cell: (t) => uah(t.revenue_with_vat) },
      { label: TEXT.totals.share_without_vat, cell: (t) => uah(t.share_without_vat) },
      { label: TEXT.columns.balance, cell: (t) => uah(t.balance_without_vat) },
    ], tenants, TEXT.noTenants));
}

export async function campaignMoneyView(root, { id, query }, { signal }) {
  const campaign = (await getJson("/api/campaigns", { signal })).find((c) => c.id === id);
  if (!campaign) {
    root.append(h("h1", {}, TEXT.notFound), h("p", {}, link("campaigns", TEXT.allCampaigns)));
    return;
  }
  const range = new URLSearchParams();
  for (const name of ["since", "until"]) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(query.get(name) || "")) range.set(name, query.get(name));
  }
  const path = `/api/campaigns/${encodeURIComponent(id)}/money`;
  const money = await getJson(`${path}?${range}`, { signal });
  const feedback = h("div");
  const since = h("input", { id: "c-since", type: "date", name: "since", value: money.since, required: true });
  const until = h("input", { id: "c-until", type: "date", name: "until", value: money.until, required: true });
  const form = h("form", { class: "card filters", role: "search", "aria-label": TEXT.chooseDays },
    h("div", { class: "fields" }, h("div", {}, h("label", { for: "c-since" }, TEXT.since), since),
      h("div", {}, h("label", { for: "c-until" }, TEXT.until), until)),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "secondary" }, TEXT.show)));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/campaigns/${encodeURIComponent(id)}/money?since=${since.value}&until=${until.value}`;
  });
  root.append(h("h1", {}, TEXT.campaignTitle(campaign.name)), form,
    h("p", { class: "toolbar" }, h("span", { role: "status" }, TEXT.campaignTotals(money.totals)),
      h("button", { type: "button", class: "link", onclick: async () => {
        try {
          download(await blobUrl(`${path}.csv?since=${money.since}&until=${money.until}`), `${id}-money.csv`);
        } catch (error) {
          showFailure(error, feedback);
        }
      } }, TEXT.campaignCsv)),
    feedback,
    table(TEXT.money, [
      { label: TEXT.columns.day, cell: (d) => d.day },
      { label: TEXT.columns.events, cell: (d) => d.events },
      { label: TEXT.columns.revenue, cell: (d) => uah(d.revenue_with_vat) },
      { label: TEXT.columns.share, cell: (d) => uah(d.share_without_vat) },
      { label: TEXT.columns.cost, cell: (d) => uah(d.cost_without_vat) },
    ], money.days.filter((d) => d.events), TEXT.noDays));
}
