// A campaign's results, live: votes, answers, codes redeemed, calls per minute and where callers left,
// redrawn from the server's event stream (GET .../live) as results change, without reloading.

import { blobUrl, getJson, stream } from "../api.js";
import { BarChart, MinuteChart } from "../charts.js";
import { download, fill, h, link, notice, plural } from "../dom.js";
import { showFailure } from "../page.js";
import { lifecycleCard } from "./lifecycle.js";
import { SIMULATE_LABEL, flowSection } from "./flow.js";

const RETRY_SECONDS = 3;

export async function dashboardView(root, { id }, { me, signal }) {
  const campaigns = await getJson("/api/campaigns", { signal });
  const campaign = campaigns.find((c) => c.id === id);
  if (!campaign) {
    root.append(h("h1", {}, "Campaign not found"),
      notice("error", `There is no campaign “${id}” among your campaigns.`),
      h("p", {}, link("campaigns", "Back to your campaigns")));
    return;
  }
  const path = `/api/campaigns/${encodeURIComponent(id)}`;
  const numbers = [...new Set([...campaign.voice_numbers, ...campaign.sms_numbers])];
  const board = new Board();
  const exportButton = h("button", { type: "button", class: "link", onclick: async () => {
    try {
      download(await blobUrl(`${path}/outcomes.csv`), `${id}-results.csv`);
    } catch (error) {
      showFailure(error, board.failure);
    }
  } }, "Download every result (CSV)");
  const state = h("div");
  const redraw = (changed) => {
    if (changed === null) location.hash = "#/campaigns";
    else fill(state, lifecycleCard(changed, { me, signal, changed: redraw }));
  };
  redraw(campaign);
  root.append(
    h("h1", {}, campaign.name),
    h("p", { class: "subtitle" }, `${id} · ${numbers.length ? `short number ${numbers.join(", ")}` : "no short number"}`
      + ` · ${campaign.active_version ? `version ${campaign.active_version} in service` : "nothing in service"}`),
    h("p", { class: "actions" },
      me.role !== "operator" && link(`campaigns/${encodeURIComponent(id)}/versions`, "Versions"),
      me.role !== "operator" && link(`upload?campaign=${encodeURIComponent(id)}`, "Upload a new version"),
      link(`campaigns/${encodeURIComponent(id)}/draws`, "Winner draws"),
      link(`calls?campaign=${encodeURIComponent(id)}`, "Calls to this campaign"),
      me.role !== "operator" && link(`campaigns/${encodeURIComponent(id)}/simulate`, SIMULATE_LABEL),
      exportButton),
    state, board.element);
  follow(`${path}/live`, board, signal);        // runs until the page is left
  if (campaign.versions) {
    try {
      root.append(await flowSection(campaign, signal));
    } catch (error) {
      showFailure(error, root);
    }
  }
}

/** Keep the board up to date from the event stream, reconnecting after passing failures. */
async function follow(url, board, signal) {
  while (!signal.aborted) {
    try {
      await stream(url, (event, data) => {
        if (event === "results") board.update(JSON.parse(data));
      }, signal);
    } catch (error) {
      if (signal.aborted) return;
      if (error.status && error.status !== 503) {             // not a passing problem: show it and stop
        board.connection("Not live", "off");
        showFailure(error, board.failure);
        return;
      }
    }
    board.connection(`Connection lost; trying again in ${RETRY_SECONDS} s…`, "off");
    await new Promise((resolve) => setTimeout(resolve, RETRY_SECONDS * 1000));
  }
}

/** The charts of one campaign, made as their results first appear and updated in place after that. */
class Board {
  constructor() {
    this.charts = new Map();
    this.state = h("span", { class: "live connecting" }, "Connecting…");
    this.updated = h("span", { class: "muted" });
    this.failure = h("div");
    this.empty = h("p", { class: "empty" }, "Nothing counted yet. Results appear here as calls come in.");
    this.tallies = h("div", { class: "grid" });
    this.minutes = new MinuteChart("Calls per minute over the last hour");
    this.dropOff = new BarChart("Calls that ended before the end of the campaign, by step", "call");
    this.dropSection = h("section", { class: "card", hidden: true }, h("h2", {}, "Where callers left early"),
      this.dropOff.element);
    this.element = h("div", {},
      h("p", { class: "live-line" }, this.state, " ", this.updated), this.failure,
      h("section", { "aria-label": "Tallies" }, this.empty, this.tallies),
      h("section", { class: "card" }, h("h2", {}, "Calls per minute"), this.minutes.element), this.dropSection);
  }

  /** Show whether the figures are live. */
  connection(text, kind) {
    this.state.textContent = text;
    this.state.className = `live ${kind}`;
  }

  chart(key, title, make) {
    if (!this.charts.has(key)) {
      const chart = make();
      this.tallies.append(h("section", { class: "card" }, h("h2", {}, title), chart.element));
      this.charts.set(key, chart);
    }
    return this.charts.get(key);
  }

  update(results) {
    fill(this.failure);
    this.connection("Live", "on");
    this.updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
    for (const [name, counts] of Object.entries(results.votes || {})) {
      this.chart(`vote:${name}`, `Votes: ${name}`, () => new BarChart(`Votes for ${name}`, "vote"))
        .update(Object.entries(counts));
    }
    for (const [question, counts] of Object.entries(results.answers || {})) {
      this.chart(`answer:${question}`, `Answers: ${question}`, () => new BarChart(`Answers to ${question}`, "answer"))
        .update(Object.entries(counts));
    }
    for (const [pool, { codes, redeemed }] of Object.entries(results.codes || {})) {
      this.chart(`codes:${pool}`, `Codes redeemed: ${pool}`, () => new CodesMeter(pool, "redeemed")).update(redeemed, codes);
    }
    for (const [pool, { codes, issued }] of Object.entries(results.issued || {})) {
      this.chart(`issued:${pool}`, `Codes handed out: ${pool}`, () => new CodesMeter(pool, "handed out"))
        .update(issued, codes);
    }
    this.empty.hidden = this.charts.size > 0;
    this.minutes.update(results.calls_per_minute || []);
    const drops = Object.entries(results.drop_off || {}).map(([node, n]) => [node || "before the first step", n]);
    this.dropSection.hidden = !drops.length;
    this.dropOff.update(drops);
  }
}

class CodesMeter {
  constructor(pool, done) {
    this.done = done;
    this.meter = h("progress", { max: "1", value: "0", "aria-label": `Codes of ${pool} ${done}` });
    this.text = h("p", { class: "total" });
    this.element = h("figure", { class: "chart" }, this.meter, this.text);
  }

  update(count, codes) {
    this.meter.max = Math.max(1, codes);
    this.meter.value = count;
    this.text.textContent = `${count} of ${plural(codes, "code")} ${this.done}`;
  }
}
