// Outbound campaigns: calls (a flow) or SMS (a text) from a short number to an audience, at a pace, in allowed
// hours. A business makes one, gives it its audience (a CSV file, or its contact base), starts, pauses,
// resumes or cancels it, and follows its progress live: numbers done of the total, per result, time left.

import { blobUrl, csvPath, getJson, send, upload } from "../api.js";
import { announce, download, fill, h, link, notice, seconds, table, when } from "../dom.js";
import { number, t, tn } from "../i18n.js";
import { showFailure } from "../page.js";

const POLL_MS = 1000;
const RESULTS = {
  completed: "outbound.results.completed", answered: "outbound.results.answered", sent: "outbound.results.sent",
  busy: "outbound.results.busy", no_answer: "outbound.results.no_answer", failed: "outbound.results.failed",
  opted_out: "outbound.results.opted_out", queued: "outbound.results.queued", calling: "outbound.results.calling",
  cancelled: "outbound.results.cancelled",
};
const STATES = { draft: "outbound.states.draft", running: "outbound.states.running", paused: "outbound.states.paused",
  done: "outbound.states.done", cancelled: "outbound.states.cancelled" };
const CHANNELS = { voice: "outbound.channels.voice", sms: "outbound.channels.sms",
  voice_sms: "outbound.channels.voice_sms" };
const ACTIONS = { start: "outbound.actions.start", pause: "outbound.actions.pause", resume: "outbound.actions.resume",
  cancel: "outbound.actions.cancel" };
const ALLOWED = { draft: ["start", "cancel"], running: ["pause", "cancel"], paused: ["resume", "cancel"] };

function stateName(state) {
  return STATES[state] ? t(STATES[state]) : state;
}

function field(id, label, input, help) {
  return [h("label", { for: id }, label), input, help ? h("p", { class: "help" }, help) : null];
}

export async function outboundListView(root, params, { signal }) {
  const [campaigns, numbers] = await Promise.all([getJson("/api/campaigns", { signal }),
    getJson("/api/numbers", { signal })]);
  const list = h("div");
  const feedback = h("div", { class: "feedback", "aria-live": "polite" });
  const channel = h("select", { id: "ob-channel", name: "channel" },
    Object.entries(CHANNELS).map(([value, key]) => h("option", { value }, t(key))));
  const text = h("textarea", { id: "ob-text", name: "text", rows: "3", maxlength: "1000" });
  const textField = h("div", { hidden: true }, ...field("ob-text", t("outbound.text"), text, t("outbound.textHelp")));
  channel.addEventListener("change", () => { textField.hidden = channel.value === "voice"; });
  const form = h("form", { class: "card", novalidate: true },
    ...field("ob-name", t("outbound.name"), h("input", { id: "ob-name", name: "name", required: true, maxlength: "128" })),
    ...field("ob-campaign", t("outbound.campaign"), h("select", { id: "ob-campaign", name: "campaign_id" },
      campaigns.map((c) => h("option", { value: c.id }, c.name || c.id)))),
    ...field("ob-channel", t("outbound.channel"), channel),
    ...field("ob-number", t("outbound.number"), h("select", { id: "ob-number", name: "number" },
      numbers.map((n) => h("option", { value: n.number }, n.number)))),
    textField,
    ...field("ob-rate", t("outbound.rate"), h("input", { id: "ob-rate", name: "rate", type: "number", min: "0.01",
      max: "200", step: "0.01", value: "1" }), t("outbound.rateHelp")),
    ...field("ob-concurrent", t("outbound.concurrent"), h("input", { id: "ob-concurrent", name: "concurrent",
      type: "number", min: "1", max: "1000", value: "10" })),
    ...field("ob-from", t("outbound.from"), h("input", { id: "ob-from", name: "from", type: "time", value: "09:00" })),
    ...field("ob-until", t("outbound.until"), h("input", { id: "ob-until", name: "until", type: "time", value: "21:00" })),
    ...field("ob-zone", t("outbound.zone"), h("input", { id: "ob-zone", name: "time_zone", value: "Europe/Kyiv" }),
      t("outbound.zoneHelp")),
    ...field("ob-attempts", t("outbound.attempts"), h("input", { id: "ob-attempts", name: "max_attempts",
      type: "number", min: "1", max: "10", value: "3" }), t("outbound.attemptsHelp")),
    h("div", { class: "buttons" }, h("button", { type: "submit" }, t("outbound.create"))));
  root.append(h("h1", {}, t("outbound.title")), h("p", { class: "help" }, t("outbound.intro")), list,
    h("h2", {}, t("outbound.new")), form, feedback);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = Object.fromEntries(new FormData(form));
    const body = { name: f.name, campaign_id: f.campaign_id, channel: f.channel, number: f.number,
      rate: Number(f.rate), concurrent: Number(f.concurrent), hours: [f.from, f.until === "00:00" ? "24:00" : f.until],
      time_zone: f.time_zone, max_attempts: Number(f.max_attempts), ...(f.channel !== "voice" ? { text: f.text } : {}) };
    fill(feedback);
    try {
      const made = await send("POST", "/api/outbound", { json: body, signal });
      location.hash = `#/outbound/${made.id}`;
    } catch (error) {
      showFailure(error, feedback);
    }
  });
  const found = await getJson("/api/outbound", { signal });
  fill(list, table(t("outbound.title"), [
    { label: t("outbound.columns.name"), cell: (o) => link(`outbound/${o.id}`, o.name) },
    { label: t("outbound.columns.channel"), cell: (o) => t(CHANNELS[o.channel]) },
    { label: t("outbound.columns.number"), cell: (o) => o.number },
    { label: t("outbound.columns.state"), cell: (o) => stateName(o.state) },
    { label: t("outbound.columns.created"), cell: (o) => when(o.created_at) },
  ], found, t("outbound.none")));
}

export async function outboundView(root, { id }, { signal }) {
  const path = `/api/outbound/${encodeURIComponent(id)}`;
  const heading = h("h1");
  const summary = h("p");
  const bar = h("progress", { max: "1", value: "0", "aria-labelledby": "ob-progress" });
  const done = h("p", { id: "ob-progress", "aria-live": "polite" });
  const counts = h("div");
  const buttons = h("div", { class: "buttons" });
  const feedback = h("div", { class: "feedback", "aria-live": "polite" });
  const file = h("input", { id: "ob-file", type: "file", accept: ".csv,text/csv" });
  const audience = h("form", { class: "card" },
    ...field("ob-file", t("outbound.audienceFile"), file, t("outbound.audienceHelp")),
    h("div", { class: "buttons" }, h("button", { type: "submit" }, t("outbound.upload")),
      h("button", { type: "button", onclick: () => fromContacts() }, t("outbound.fromContacts"))));
  const results = h("button", { type: "button", class: "link", onclick: async () => {
    try {
      download(await blobUrl(csvPath(`${path}/results.csv`), { signal }), `outbound-${id}-results.csv`);
    } catch (error) {
      showFailure(error, feedback);
    }
  } }, t("outbound.resultsCsv"));
  root.append(h("p", {}, link("outbound", t("outbound.back"))), heading, summary, bar, done, counts, buttons,
    feedback, h("h2", {}, t("outbound.audience")), audience, h("p", {}, results));

  async function act(action) {
    fill(feedback);
    try {
      const changed = await send("POST", `${path}/${action}`, { signal });
      announce(t("outbound.now", { state: stateName(changed.state) }));
      await draw();
    } catch (error) {
      showFailure(error, feedback);
    }
  }

  async function added(answer) {
    const said = t("outbound.added", { added: tn("outbound.numbers", answer.added) })
      + (answer.problems.length ? ` ${t("outbound.problems", { lines: answer.problems.map((p) => p.line).join(", ") })}` : "");
    fill(feedback, notice(answer.problems.length ? "error" : "ok", said));
    announce(said);
    await draw();
  }

  async function fromContacts() {
    try {
      await added(await send("POST", `${path}/audience/contacts`, { json: {}, signal }));
    } catch (error) {
      showFailure(error, feedback);
    }
  }

  audience.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files[0]) {
      fill(feedback, notice("error", t("outbound.noFile")));
      return;
    }
    try {
      await added(await upload("POST", `${path}/audience`, file.files[0], { type: "text/csv", signal }));
    } catch (error) {
      showFailure(error, feedback);
    }
  });

  async function draw() {
    const o = await getJson(path, { signal });
    const p = o.progress;
    fill(heading, o.name);
    fill(summary, t("outbound.summary", { channel: t(CHANNELS[o.channel]), number: o.number,
      state: stateName(o.state), from: o.hours[0], until: o.hours[1], zone: o.time_zone,
      rate: number(o.rate), attempts: o.max_attempts }));
    bar.max = Math.max(1, p.total);
    bar.value = p.done;
    fill(done, t("outbound.done", { done: number(p.done), total: tn("outbound.numbers", p.total) })
      + (p.eta_seconds ? ` ${t("outbound.eta", { time: seconds(p.eta_seconds) })}` : ""));
    fill(counts, table(t("outbound.perResult"), [
      { label: t("outbound.columns.result"), cell: ([key]) => t(RESULTS[key]) },
      { label: t("outbound.columns.count"), cell: ([, n]) => number(n) },
    ], [...Object.keys(p.results).filter((r) => RESULTS[r]).map((r) => [r, p.results[r]]), ["queued", p.queued],
      ["calling", p.calling], ["cancelled", p.cancelled]], ""));
    fill(buttons, ...(ALLOWED[o.state] || []).map((action) => h("button", { type: "button",
      class: action === "cancel" ? "danger" : "", onclick: () => act(action) }, t(ACTIONS[action]))));
    audience.hidden = o.state === "done" || o.state === "cancelled";
  }

  await draw();
  (async () => {
    while (!signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (signal.aborted) return;
      try {
        await draw();
      } catch (error) {
        if (!signal.aborted) showFailure(error, feedback);
        return;
      }
    }
  })();
}
