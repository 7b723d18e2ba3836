// The call log: filters (kept in the #address, so a filtered list can be bookmarked), pages, CSV export.

import { blobUrl, getJson } from "../api.js";
import { download, fill, h, link, plural, seconds, table, when } from "../dom.js";
import { showFailure } from "../page.js";

const PAGE = 25;

/** Plain words for the way a call ended. */
export const DISPOSITIONS = {
  completed: "Completed",
  abandoned: "Caller hung up before the end",
  cancelled: "Caller hung up while ringing",
  rtp_timeout: "Line went silent",
  max_duration: "Cut off: too long",
  no_ack: "Caller never confirmed the answer",
  bad_sdp_answer: "Caller's phone sent no usable media answer",
  shutdown: "Ended by server shutdown",
};

const TEXT_FILTERS = [["number", "Short number", "e.g. 3838"], ["caller", "Caller’s number", "e.g. +15550001"]];
const TIME_FILTERS = [["since", "From"], ["until", "Until"]];

function select(name, label, options, value) {
  return [h("label", { for: `f-${name}` }, label),
    h("select", { id: `f-${name}`, name }, options.map(([v, text]) => h("option", { value: v, selected: v === value },
      text)))];
}

export async function callsView(root, { query }, { signal }) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const campaigns = await getJson("/api/campaigns", { signal });
  const value = (name) => query.get(name) || "";
  const form = h("form", { class: "card filters", role: "search", "aria-label": "Filter calls" },
    h("div", { class: "fields" },
      TEXT_FILTERS.map(([name, label, example]) => h("div", {}, h("label", { for: `f-${name}` }, label),
        h("input", { id: `f-${name}`, name, value: value(name), placeholder: example, inputmode: "tel" }))),
      h("div", {}, select("campaign", "Campaign", [["", "Any campaign"],
        ...campaigns.map((c) => [c.id, c.name])], value("campaign"))),
      h("div", {}, select("channel", "Channel", [["", "Calls and SMS"], ["voice", "Calls"], ["sms", "SMS"]],
        value("channel"))),
      h("div", {}, select("disposition", "How it ended", [["", "Any way"], ...Object.entries(DISPOSITIONS)],
        value("disposition"))),
      TIME_FILTERS.map(([name, label]) => h("div", {}, h("label", { for: `f-${name}` }, label),
        h("input", { id: `f-${name}`, name, type: "datetime-local", step: "1", value: value(name) })))),
    h("div", { class: "buttons" }, h("button", { type: "submit" }, "Show calls"),
      h("a", { href: "#/calls", class: "button secondary" }, "Clear filters")));
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
  root.append(h("h1", {}, "Call log"), form, feedback, result);

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
      h("p", { role: "status" }, total ? `Showing ${first}–${first + calls.length - 1} of ${plural(total, "call")}`
        : "No calls match."),
      total > 0 && h("button", { type: "button", class: "link", onclick: async () => {
        try {
          download(await blobUrl(`/api/calls.csv?${filters}`), "calls.csv");
        } catch (error) {
          showFailure(error, feedback);
        }
      } }, "Download these calls (CSV)")),
    table("Calls, newest first", [
      { label: "Started", cell: (c) => link(`calls/${encodeURIComponent(c.call_id)}`, when(c.started_at),
        { "aria-label": `Details of the call from ${c.caller} at ${when(c.started_at)}` }) },
      { label: "Caller", cell: (c) => c.caller },
      { label: "Number", cell: (c) => c.number },
      { label: "Campaign", cell: (c) => names.get(c.campaign_id) || c.campaign_id || "—" },
      { label: "Channel", cell: (c) => (c.channel === "sms" ? "SMS" : "Call") },
      { label: "Duration", cell: (c) => seconds(c.duration) },
      { label: "How it ended", cell: (c) => (c.disposition ? DISPOSITIONS[c.disposition] || c.disposition
        : "In progress") },
    ], calls, "No calls match these filters."),
    total > PAGE && h("nav", { class: "pager", "aria-label": "Pages" },
      page > 1 && pageLink(page - 1, "← Newer calls"),
      h("span", {}, `Page ${page} of ${Math.ceil(total / PAGE)}`),
      first + calls.length - 1 < total && pageLink(page + 1, "Older calls →")));
}
