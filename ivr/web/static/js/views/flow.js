// A campaign's flow on its page: the diagram with live counts (sessions per step and arrow, where callers
// left, the busiest path) for a chosen version, channel and period; and the simulator: typed inputs run
// through a version, its path lit up step by step on the same diagram.

import { getJson, send, stream } from "../api.js";
import { FlowDiagram } from "../diagram.js";
import { fill, h, link, notice, plural } from "../dom.js";
import { showFailure } from "../page.js";

// Every word these views show (one place, for translation).
const T = {
  heading: "Flow",
  help: "Each box is a step of the campaign, each arrow a way out of it, labelled with the keys, words or "
    + "event that take it. Numbers are sessions (calls or SMS conversations) that reached a step or took an arrow; "
    + "“left here” counts sessions that ended at a step before the end of the campaign.",
  version: "Version",
  versionOption: (v, active) => `version ${v}${active ? " (in service)" : ""}`,
  allVersions: "all versions",
  channel: "Channel",
  channels: { "": "calls and SMS", voice: "calls only", sms: "SMS only" },
  period: "Period",
  periods: { all: "all time", hour: "last hour", day: "last 24 hours", week: "last 7 days" },
  summary: (sessions, ongoing) => `${plural(sessions, "session")}${ongoing ? `, ${ongoing} in progress` : ""}.`,
  noSessions: "No sessions yet for this choice.",
  legend: "busiest path: from the start, the way most sessions went",
  routed: "This campaign is routed by the business's own server: its steps are not known in advance, so there is "
    + "no diagram.",
  connecting: "Connecting…",
  live: "Live",
  lost: "Connection lost; trying again…",
  simulate: "Try it in the simulator",
  simHeading: (name) => `Simulate ${name}`,
  simHelp: "Type what a caller would press or say, one answer a line (“#” ends keyed input; an empty line is "
    + "silence). Nothing is stored and no call is made; webhooks are called.",
  inputs: "Caller's answers, one a line",
  simChannel: "Channel",
  simChannels: { voice: "call", sms: "SMS" },
  run: "Run",
  running: "Running…",
  path: (steps) => `Path: ${steps.join(" → ")}`,
  ended: (reason) => `Ended: ${reason || "waiting for the caller"}`,
  transcript: "Transcript",
  who: { ivr: "Campaign", caller: "Caller", system: "System" },
  outcomes: "Outcomes",
  back: "Back to the campaign",
};
const PERIODS = { all: null, hour: 3600e3, day: 86400e3, week: 7 * 86400e3 };
const RETRY_SECONDS = 3;

/** The flow section of a campaign's page; follows the live counts until `signal` aborts. */
export async function flowSection(campaign, signal) {
  const path = `/api/campaigns/${encodeURIComponent(campaign.id)}`;
  const section = h("section", { class: "card", "aria-labelledby": "flow-heading" },
    h("h2", { id: "flow-heading" }, T.heading));
  let graph = await getJson(`${path}/diagram`, { signal });
  if (graph.routed) {
    section.append(h("p", { class: "help" }, T.routed));
    return section;
  }
  const active = graph.version;
  const version = h("select", { id: "flow-version" },
    [...graph.versions].reverse().map((v) => h("option", { value: String(v), selected: v === active },
      T.versionOption(v, v === active))), h("option", { value: "all" }, T.allVersions));
  const channel = h("select", { id: "flow-channel" },
    Object.entries(T.channels).map(([value, text]) => h("option", { value }, text)));
  const period = h("select", { id: "flow-period" },
    Object.entries(T.periods).map(([value, text]) => h("option", { value }, text)));
  const state = h("span", { class: "live connecting" }, T.connecting);
  const summary = h("p", { class: "flow-summary", role: "status" });
  const holder = h("div");
  section.append(h("p", { class: "help" }, T.help),
    h("div", { class: "flow-filters" },
      h("div", {}, h("label", { for: "flow-version" }, T.version), version),
      h("div", {}, h("label", { for: "flow-channel" }, T.channel), channel),
      h("div", {}, h("label", { for: "flow-period" }, T.period), period),
      h("p", { class: "live-line" }, state)),
    h("p", { class: "legend" }, h("span", { class: "swatch busy" }), T.legend), summary, holder);
  let drawing = new FlowDiagram(graph, campaign.name);
  fill(holder, drawing.element);

  let following = null;
  async function follow() {
    following?.abort();
    const mine = new AbortController();
    following = mine;
    signal.addEventListener("abort", () => mine.abort(), { once: true });
    const query = new URLSearchParams({ version: version.value });
    if (channel.value) query.set("channel", channel.value);
    const span = PERIODS[period.value];
    if (span) query.set("since", new Date(Date.now() - span).toISOString());
    while (!mine.signal.aborted) {
      try {
        await stream(`${path}/flow/live?${query}`, (event, data) => {
          if (event !== "flow") return;
          const flow = JSON.parse(data);
          drawing.update(flow);
          summary.textContent = flow.sessions ? T.summary(flow.sessions, flow.ongoing) : T.noSessions;
          state.textContent = T.live;
          state.className = "live on";
        }, mine.signal);
      } catch (error) {
        if (mine.signal.aborted) return;
        if (error.status && error.status !== 503) {
          showFailure(error, section);
          return;
        }
      }
      state.textContent = T.lost;
      state.className = "live off";
      await new Promise((resolve) => setTimeout(resolve, RETRY_SECONDS * 1000));
    }
  }

  version.addEventListener("change", async () => {
    try {
      const shown = version.value === "all" ? active : version.value;
      graph = await getJson(`${path}/diagram?version=${encodeURIComponent(shown)}`, { signal });
      drawing = new FlowDiagram(graph, campaign.name);
      fill(holder, drawing.element);
      follow();
    } catch (error) {
      showFailure(error, section);
    }
  });
  channel.addEventListener("change", follow);
  period.addEventListener("change", follow);
  follow();
  return section;
}

/** The simulator page: run a version with typed inputs and watch its path light up on the diagram. */
export async function simulateView(root, { id }, { signal }) {
  const path = `/api/campaigns/${encodeURIComponent(id)}`;
  const [campaigns, graph] = await Promise.all([getJson("/api/campaigns", { signal }),
    getJson(`${path}/diagram`, { signal })]);
  const name = campaigns.find((c) => c.id === id)?.name || id;
  const inputs = h("textarea", { id: "sim-inputs", rows: "5", spellcheck: "false", autocomplete: "off" });
  const channel = h("select", { id: "sim-channel" },
    Object.entries(T.simChannels).map(([value, text]) => h("option", { value }, text)));
  const version = h("select", { id: "sim-version" }, [...graph.versions].reverse().map((v) =>
    h("option", { value: String(v), selected: v === graph.version }, T.versionOption(v, v === graph.version))));
  const button = h("button", { type: "submit" }, T.run);
  const result = h("div", { class: "sim-result" });
  const holder = h("div");
  let drawing = new FlowDiagram(graph, name);
  fill(holder, drawing.element);
  const form = h("form", { class: "card" },
    h("p", { class: "help" }, T.simHelp),
    h("label", { for: "sim-inputs" }, T.inputs), inputs,
    h("div", { class: "flow-filters" },
      h("div", {}, h("label", { for: "sim-channel" }, T.simChannel), channel),
      h("div", {}, h("label", { for: "sim-version" }, T.version), version)),
    h("div", { class: "buttons" }, button));
  root.append(h("h1", {}, T.simHeading(name)), h("p", {}, link(`campaigns/${encodeURIComponent(id)}`, T.back)),
    form, result, h("section", { class: "card" }, holder));

  version.addEventListener("change", async () => {
    try {
      drawing = new FlowDiagram(await getJson(`${path}/diagram?version=${version.value}`, { signal }), name);
      fill(holder, drawing.element);
    } catch (error) {
      showFailure(error, result);
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    fill(result, notice("info", T.running));
    try {
      const answers = inputs.value.split("\n").map((line) => line.trim());
      while (answers.length && !answers[answers.length - 1]) answers.pop();
      const run = await send("POST", `${path}/simulate`, { json: { channel: channel.value, inputs: answers,
        version: Number(version.value) }, signal });
      fill(result, h("section", { class: "card" },
        h("p", { class: "sim-path" }, T.path(run.path)), h("p", {}, T.ended(run.end_reason)),
        h("h2", {}, T.transcript),
        h("ol", { class: "transcript" }, run.transcript.map((line) => h("li", {},
          h("span", { class: "who" }, T.who[line.who] || line.who), " ", line.text))),
        run.outcomes.length ? [h("h2", {}, T.outcomes), h("ul", {}, run.outcomes.map((o) =>
          h("li", {}, `${o.kind} ${o.name}: ${o.value}`)))] : null));
      await drawing.light(run.path, 350, signal);
    } catch (error) {
      fill(result);
      showFailure(error, result);
    } finally {
      button.disabled = false;
    }
  });
}

export const SIMULATE_LABEL = T.simulate;
