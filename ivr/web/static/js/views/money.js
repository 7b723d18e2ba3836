// Money: a tenant's monthly statement (fees + usage − revenue share), every tenant's month for
// administrators, and one campaign's revenue and cost day by day. Amounts come from the API as exact
// decimal strings and are shown as they are (never turned into floating-point numbers).

import { blobUrl, getJson } from "../api.js";
import { download, h, link, table } from "../dom.js";
import { number, t, tn } from "../i18n.js";
import { showFailure } from "../page.js";

// Texts picked by a field of the API's answers (catalogue keys, docs/i18n.md)
const TOTALS = {
  fees_without_vat: "money.totals.fees_without_vat",
  usage_without_vat: "money.totals.usage_without_vat",
  charges_without_vat: "money.totals.charges_without_vat",
  vat: "money.totals.vat",
  charges_with_vat: "money.totals.charges_with_vat",
  revenue_with_vat: "money.totals.revenue_with_vat",
  share_without_vat: "money.totals.share_without_vat",
  balance_without_vat: "money.totals.balance_without_vat",
};
const ITEMS = {
  monthly_fee: "money.items.monthly_fee", sms_premium: "money.items.sms_premium",
  sms_business_paid: "money.items.sms_business_paid", sms_outbound: "money.items.sms_outbound",
  call_premium: "money.items.call_premium", call_business_paid: "money.items.call_business_paid",
};
const UNITS = { month: "money.units.month", message: "money.units.message", part: "money.units.part",
  call: "unit.call" };

function thisMonth() {
  return new Date().toLocaleDateString("en-CA", { timeZone: "Europe/Kyiv" }).slice(0, 7);
}

function uah(amount) {
  return t("money.uah", { amount });
}

function quantity(line) {
  if (line.unit === "second") {
    return t("money.talked", { calls: tn("unit.call", line.events), billed: t("common.minutesSeconds",
      { m: Math.floor(line.quantity / 60), s: line.quantity % 60 }) });
  }
  return UNITS[line.unit] ? tn(UNITS[line.unit], line.quantity) : `${number(line.quantity)} ${line.unit}`;
}

function monthForm(month, extra, go) {
  const input = h("input", { id: "m-month", type: "month", name: "month", value: month, required: true });
  const form = h("form", { class: "card inline", role: "search", "aria-label": t("money.chooseMonth") },
    h("label", { for: "m-month" }, t("money.month")), input,
    h("button", { type: "submit", class: "secondary" }, t("money.show")));
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
  const tenantName = tenants.find((x) => x.id === tenant)?.name;
  const feedback = h("div");
  root.append(h("h1", {}, tenantName ? t("money.titleOf", { tenant: tenantName }) : t("money.title")),
    h("p", { class: "help" }, t("money.help")),
    monthForm(month, tenant ? { tenant } : {}, (q) => { location.hash = `#/statement?${q}`; }),
    h("section", { class: "card", "aria-label": t("money.title") },
      h("h2", {}, t("money.titleMonth", { month: statement.month })),
      h("dl", { class: "facts" }, Object.entries(TOTALS).map(([name, key]) => [h("div", {},
        h("dt", {}, t(key, { percent: statement.vat_percent })),
        h("dd", { "data-total": name }, uah(statement.totals[name])))])),
      h("p", {}, h("button", { type: "button", class: "link", onclick: async () => {
        try {
          download(await blobUrl(`/api/statement.csv?${scope}`), `statement-${month}.csv`);
        } catch (error) {
          showFailure(error, feedback);
        }
      } }, t("money.csv")))),
    feedback,
    h("h2", {}, t("money.lines")),
    table(t("money.lines"), [
      { label: t("money.columns.number"), cell: (l) => l.number },
      { label: t("money.columns.campaign"), cell: (l) => (l.campaign_id ? link(`campaigns/${encodeURIComponent(
        l.campaign_id)}/money?since=${month}-01`, names.get(l.campaign_id) || l.campaign_id) : "—") },
      { label: t("money.columns.item"), cell: (l) => (ITEMS[l.item] ? t(ITEMS[l.item]) : l.item) },
      { label: t("money.columns.operator"), cell: (l) => l.operator || "—" },
      { label: t("money.columns.quantity"), cell: quantity },
      { label: t("money.columns.amount"), cell: (l) => uah(l.amount_without_vat) },
      { label: t("money.columns.revenue"), cell: (l) => uah(l.revenue_with_vat) },
      { label: t("money.columns.share"), cell: (l) => uah(l.share_without_vat) },
    ], statement.lines, t("money.noLines")));
}

async function overview(root, month, signal) {
  const { tenants } = await getJson(`/api/statements?month=${month}`, { signal });
  root.append(h("h1", {}, t("money.overviewTitle")), h("p", { class: "help" }, t("money.overviewHelp")),
    monthForm(month, {}, (q) => { location.hash = `#/statement?${q}`; }),
    table(t("money.overviewTitle"), [
      { label: t("money.columns.tenant"), cell: (x) => link(`statement?month=${month}&tenant=${encodeURIComponent(
        x.tenant_id)}`, x.tenant || x.tenant_id) },
      { label: t(TOTALS.charges_without_vat), cell: (x) => uah(x.charges_without_vat) },
      { label: t(TOTALS.charges_with_vat), cell: (x) => uah(x.charges_with_vat) },
      { label: t(TOTALS.revenue_with_vat), cell: (x) => uah(x.revenue_with_vat) },
      { label: t(TOTALS.share_without_vat), cell: (x) => uah(x.share_without_vat) },
      { label: t("money.columns.balance"), cell: (x) => uah(x.balance_without_vat) },
    ], tenants, t("money.noTenants")));
}

export async function campaignMoneyView(root, { id, query }, { signal }) {
  const campaign = (await getJson("/api/campaigns", { signal })).find((c) => c.id === id);
  if (!campaign) {
    root.append(h("h1", {}, t("money.notFound")), h("p", {}, link("campaigns", t("money.allCampaigns"))));
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
  const form = h("form", { class: "card filters", role: "search", "aria-label": t("money.chooseDays") },
    h("div", { class: "fields" }, h("div", {}, h("label", { for: "c-since" }, t("money.since")), since),
      h("div", {}, h("label", { for: "c-until" }, t("money.until")), until)),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "secondary" }, t("money.show"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/campaigns/${encodeURIComponent(id)}/money?since=${since.value}&until=${until.value}`;
  });
  const totals = money.totals;
  root.append(h("h1", {}, t("money.campaignTitle", { name: campaign.name })), form,
    h("p", { class: "toolbar" }, h("span", { role: "status" }, t("money.campaignTotals", {
      events: tn("money.events", totals.events), revenue: uah(totals.revenue_with_vat),
      share: uah(totals.share_without_vat), cost: uah(totals.cost_without_vat) })),
      h("button", { type: "button", class: "link", onclick: async () => {
        try {
          download(await blobUrl(`${path}.csv?since=${money.since}&until=${money.until}`), `${id}-money.csv`);
        } catch (error) {
          showFailure(error, feedback);
        }
      } }, t("money.campaignCsv"))),
    feedback,
    table(t("money.money"), [
      { label: t("money.columns.day"), cell: (d) => d.day },
      { label: t("money.columns.events"), cell: (d) => number(d.events) },
      { label: t("money.columns.revenue"), cell: (d) => uah(d.revenue_with_vat) },
      { label: t("money.columns.share"), cell: (d) => uah(d.share_without_vat) },
      { label: t("money.columns.cost"), cell: (d) => uah(d.cost_without_vat) },
    ], money.days.filter((d) => d.events), t("money.noDays")));
}
