// The call log: filters (kept in the #address, so a filtered list can be bookmarked), pages, CSV export.

import { blobUrl, csvPath, getJson } from "../api.js";
import { download, fill, h, link, seconds, table, when } from "../dom.js";
import { t, tn } from "../i18n.js";
import { showFailure } from "../page.js";

const PAGE = 25;

/** Catalogue keys of the plain words for the way a call ended. */
const DISPOSITIONS = {
  completed: "calls.disposition.completed",
  abandoned: "calls.disposition.abandoned",
  cancelled: "calls.disposition.cancelled",
  rtp_timeout: "calls.disposition.rtp_timeout",
  max_duration: "calls.disposition.max_duration",
  no_ack: "calls.disposition.no_ack",
  bad_sdp_answer: "calls.disposition.bad_sdp_answer",
  shutdown: "calls.disposition.shutdown",
};

/** How a call ended, in words. */
export function disposition(value) {
  return DISPOSITIONS[value] ? t(DISPOSITIONS[value]) : value;
}

const TEXT_FILTERS = [["number", "calls.filter.number", "calls.filter.numberExample"],
  ["caller", "calls.filter.caller", "calls.filter.callerExample"]];
const TIME_FILTERS = [["since", "calls.filter.since"], ["until", "calls.filter.until"]];

function select(name, label, options, value) {
  return [h("label", { for: `f-${name}` }, label),
    h("select", { id: `f-${name}`, name }, options.map(([v, text]) => h("option", { value: v, selected: v === value },
      text)))];
}

export async function callsView(root, { query }, { signal }) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const campaigns = await getJson("/api/campaigns", { signal });
  const value = (name) => query.get(name) || "";
  const form = h("form", { class: "card filters", role: "search", "aria-label": t("calls.filter") },
    h("div", { class: "fields" },
      TEXT_FILTERS.map(([name, label, example]) => h("div", {}, h("label", { for: `f-${name}` }, t(label)),
        h("input", { id: `f-${name}`, name, value: value(name), placeholder: t(example), inputmode: "tel" }))),
      h("div", {}, select("campaign", t("calls.campaign"), [["", t("calls.anyCampaign")],
        ...campaigns.map((c) => [c.id, c.name])], value("campaign"))),
      h("div", {}, select("channel", t("calls.channel"), [["", t("calls.bothChannels")], ["voice", t("calls.calls")],
        ["sms", "SMS"]], value("channel"))),
      h("div", {}, select("disposition", t("calls.howEnded"), [["", t("calls.anyWay")],
        ...Object.keys(DISPOSITIONS).map((key) => [key, disposition(key)])], value("disposition"))),
      TIME_FILTERS.map(([name, label]) => h("div", {}, h("label", { for: `f-${name}` }, t(label)),
        h("input", { id: `f-${name}`, name, type: "datetime-local", step: "1", value: value(name) })))),
    h("div", { class: "buttons" }, h("button", { type: "submit" }, t("calls.show")),
      h("a", { href: "#/calls", class: "button secondary" }, t("calls.clear"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams([...new FormData(form)].filter(([, v]) => v));
    location.hash = `#/calls?${next}`;
  });

  const api = new URLSearchParams();
  for (const [name] of [...TEXT_FILTERS, ["campaign"], ["channel"], ["disposition"]]) {
    if (value(name)) api.set(name, value(name));
  }
  for (const [name] of TIME_FILTERS) {
    if (value(name)) api.set(name, new Date(value(name)).toISOString());
  }
  const filters = api.toString();
  api.set("limit", PAGE);
  api.set("offset", (page - 1) * PAGE);
  const result = h("div");
  const feedback = h("div");
  root.append(h("h1", {}, t("calls.title")), form, feedback, result);

  const { total, calls } = await getJson(`/api/calls?${api}`, { signal });
  const names = new Map(campaigns.map((c) => [c.id, c.name]));
  const first = (page - 1) * PAGE + 1;
  const pageLink = (n, text) => {
    const q = new URLSearchParams(query);
    q.set("page", n);
    return h("a", { href: `#/calls?${q}`, class: "button secondary" }, text);
  };
  fill(result,
    h("div", { class: "toolbar" },
      h("p", { role: "status" }, total ? tn("calls.showing", total, { first, last: first + calls.length - 1 })
        : t("calls.noneMatch")),
      total > 0 && h("button", { type: "button", class: "link", onclick: async () => {
        try {
          download(await blobUrl(csvPath(`/api/calls.csv?${filters}`)), "calls.csv");
        } catch (error) {
          showFailure(error, feedback);
        }
      } }, t("calls.download"))),
    table(t("calls.caption"), [
      { label: t("calls.started"), cell: (c) => link(`calls/${encodeURIComponent(c.call_id)}`, when(c.started_at),
        { "aria-label": t("calls.details", { caller: c.caller, at: when(c.started_at) }) }) },
      { label: t("calls.caller"), cell: (c) => c.caller },
      { label: t("calls.number"), cell: (c) => c.number },
      { label: t("calls.campaign"), cell: (c) => names.get(c.campaign_id) || c.campaign_id || "—" },
      { label: t("calls.channel"), cell: (c) => (c.channel === "sms" ? "SMS" : t("calls.call")) },
      { label: t("calls.duration"), cell: (c) => seconds(c.duration) },
      { label: t("calls.howEnded"), cell: (c) => (c.disposition ? disposition(c.disposition) : t("calls.inProgress")) },
    ], calls, t("calls.noneMatchFilters")),
    total > PAGE && h("nav", { class: "pager", "aria-label": t("calls.pages") },
      page > 1 && pageLink(page - 1, t("calls.newer")),
      h("span", {}, t("calls.page", { page, pages: Math.ceil(total / PAGE) })),
      first + calls.length - 1 < total && pageLink(page + 1, t("calls.older"))));
}
