// A campaign's flow on its page: the diagram with live counts (sessions per step and arrow, where callers
// left, the busiest path) for a chosen version, channel and period; and the simulator: typed inputs run
// through a version, its path lit up step by step on the same diagram.

import { getJson, send, stream } from "../api.js";
import { FlowDiagram } from "../diagram.js";
import { fill, h, link, notice } from "../dom.js";
import { t, tn } from "../i18n.js";
import { showFailure } from "../page.js";

const CHANNELS = [["", "flow.channels.both"], ["voice", "flow.channels.voice"], ["sms", "flow.channels.sms"]];
const PERIOD_NAMES = [["all", "flow.periods.all"], ["hour", "flow.periods.hour"], ["day", "flow.periods.day"],
  ["week", "flow.periods.week"]];
const SIM_CHANNELS = [["voice", "flow.simChannels.voice"], ["sms", "flow.simChannels.sms"]];
const WHO = { ivr: "flow.who.ivr", caller: "flow.who.caller", system: "flow.who.system" };

function versionOption(v, active) {
  return t(active ? "flow.versionActive" : "flow.versionOption", { version: v });
}

const PERIODS = { all: null, hour: 3600e3, day: 86400e3, week: 7 * 86400e3 };
const RETRY_SECONDS = 3;

/** The flow section of a campaign's page; follows the live counts until `signal` aborts. */
export async function flowSection(campaign, signal) {
  const path = `/api/campaigns/${encodeURIComponent(campaign.id)}`;
  const section = h("section", { class: "card", "aria-labelledby": "flow-heading" },
    h("h2", { id: "flow-heading" }, t("flow.heading")));
  let graph = await getJson(`${path}/diagram`, { signal });
  if (graph.routed) {
    section.append(h("p", { class: "help" }, t("flow.routed")));
    return section;
  }
  const active = graph.version;
  const version = h("select", { id: "flow-version" },
    [...graph.versions].reverse().map((v) => h("option", { value: String(v), selected: v === active },
      versionOption(v, v === active))), h("option", { value: "all" }, t("flow.allVersions")));
  const channel = h("select", { id: "flow-channel" },
    CHANNELS.map(([value, key]) => h("option", { value }, t(key))));
  const period = h("select", { id: "flow-period" },
    PERIOD_NAMES.map(([value, key]) => h("option", { value }, t(key))));
  const state = h("span", { class: "live connecting" }, t("flow.connecting"));
  const summary = h("p", { class: "flow-summary", role: "status" });
  const holder = h("div");
  section.append(h("p", { class: "help" }, t("flow.help")),
    h("div", { class: "flow-filters" },
      h("div", {}, h("label", { for: "flow-version" }, t("flow.version")), version),
      h("div", {}, h("label", { for: "flow-channel" }, t("flow.channel")), channel),
      h("div", {}, h("label", { for: "flow-period" }, t("flow.period")), period),
      h("p", { class: "live-line" }, state)),
    h("p", { class: "legend" }, h("span", { class: "swatch busy" }), t("flow.legend")), summary, holder);
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
          summary.textContent = !flow.sessions ? t("flow.noSessions") : flow.ongoing
            ? t("flow.summaryOngoing", { sessions: tn("flow.sessions", flow.sessions), ongoing: flow.ongoing })
            : t("flow.summary", { sessions: tn("flow.sessions", flow.sessions) });
          state.textContent = t("flow.live");
          state.className = "live on";
        }, mine.signal);
      } catch (error) {
        if (mine.signal.aborted) return;
        if (error.status && error.status !== 503) {
          showFailure(error, section);
          return;
        }
      }
      state.textContent = t("flow.lost");
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
    SIM_CHANNELS.map(([value, key]) => h("option", { value }, t(key))));
  const version = h("select", { id: "sim-version" }, [...graph.versions].reverse().map((v) =>
    h("option", { value: String(v), selected: v === graph.version }, versionOption(v, v === graph.version))));
  const button = h("button", { type: "submit" }, t("flow.run"));
  const result = h("div", { class: "sim-result" });
  const holder = h("div");
  let drawing = new FlowDiagram(graph, name);
  fill(holder, drawing.element);
  const form = h("form", { class: "card" },
    h("p", { class: "help" }, t("flow.simHelp")),
    h("label", { for: "sim-inputs" }, t("flow.inputs")), inputs,
    h("div", { class: "flow-filters" },
      h("div", {}, h("label", { for: "sim-channel" }, t("flow.channel")), channel),
      h("div", {}, h("label", { for: "sim-version" }, t("flow.version")), version)),
    h("div", { class: "buttons" }, button));
  root.append(h("h1", {}, t("flow.simHeading", { name })),
    h("p", {}, link(`campaigns/${encodeURIComponent(id)}`, t("flow.back"))),
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
    fill(result, notice("info", t("flow.running")));
    try {
      const answers = inputs.value.split("\n").map((line) => line.trim());
      while (answers.length && !answers[answers.length - 1]) answers.pop();
      const run = await send("POST", `${path}/simulate`, { json: { channel: channel.value, inputs: answers,
        version: Number(version.value) }, signal });
      fill(result, h("section", { class: "card" },
        h("p", { class: "sim-path" }, t("flow.path", { steps: run.path.join(" → ") })),
        h("p", {}, run.end_reason ? t("flow.ended", { reason: run.end_reason }) : t("flow.waiting")),
        h("h2", {}, t("flow.transcript")),
        h("ol", { class: "transcript" }, run.transcript.map((line) => h("li", {},
          h("span", { class: "who" }, WHO[line.who] ? t(WHO[line.who]) : line.who), " ", line.text))),
        run.outcomes.length ? [h("h2", {}, t("flow.outcomes")), h("ul", {}, run.outcomes.map((o) =>
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

