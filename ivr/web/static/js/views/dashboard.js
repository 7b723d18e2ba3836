// A campaign's results, live: votes, answers, codes redeemed, calls per minute and where callers left,
// redrawn from the server's event stream (GET .../live) as results change, without reloading.

import { blobUrl, csvPath, getJson, stream } from "../api.js";
import { BarChart, MinuteChart } from "../charts.js";
import { download, fill, h, link, notice } from "../dom.js";
import { t, time } from "../i18n.js";
import { showFailure } from "../page.js";
import { lifecycleCard } from "./lifecycle.js";
import { flowSection } from "./flow.js";

const RETRY_SECONDS = 3;

export async function dashboardView(root, { id }, { me, signal }) {
  const campaigns = await getJson("/api/campaigns", { signal });
  const campaign = campaigns.find((c) => c.id === id);
  if (!campaign) {
    root.append(h("h1", {}, t("dashboard.notFound")),
      notice("error", t("dashboard.noSuch", { id })),
      h("p", {}, link("campaigns", t("dashboard.back"))));
    return;
  }
  const path = `/api/campaigns/${encodeURIComponent(id)}`;
  const numbers = [...new Set([...campaign.voice_numbers, ...campaign.sms_numbers])];
  const board = new Board();
  const exportButton = h("button", { type: "button", class: "link", onclick: async () => {
    try {
      download(await blobUrl(csvPath(`${path}/outcomes.csv`)), `${id}-results.csv`);
    } catch (error) {
      showFailure(error, board.failure);
    }
  } }, t("dashboard.download"));
  const state = h("div");
  const redraw = (changed) => {
    if (changed === null) location.hash = "#/campaigns";
    else fill(state, lifecycleCard(changed, { me, signal, changed: redraw }));
  };
  redraw(campaign);
  root.append(
    h("h1", {}, campaign.name),
    h("p", { class: "subtitle" }, [id,
      numbers.length ? t("dashboard.numbers", { numbers: numbers.join(", ") }) : t("dashboard.noNumber"),
      campaign.active_version ? t("dashboard.versionInService", { version: campaign.active_version })
        : t("dashboard.nothingInService")].join(" · ")),
    h("p", { class: "actions" },
      me.role !== "operator" && link(`campaigns/${encodeURIComponent(id)}/versions`, t("dashboard.versions")),
      me.role !== "operator" && link(`upload?campaign=${encodeURIComponent(id)}`, t("dashboard.newVersion")),
      link(`campaigns/${encodeURIComponent(id)}/draws`, t("dashboard.draws")),
      link(`calls?campaign=${encodeURIComponent(id)}`, t("dashboard.calls")),
      me.role !== "operator" && link(`campaigns/${encodeURIComponent(id)}/simulate`, t("flow.simulate")),
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
        board.connection(t("dashboard.notLive"), "off");
        showFailure(error, board.failure);
        return;
      }
    }
    board.connection(t("dashboard.lost", { s: RETRY_SECONDS }), "off");
    await new Promise((resolve) => setTimeout(resolve, RETRY_SECONDS * 1000));
  }
}

/** The charts of one campaign, made as their results first appear and updated in place after that. */
class Board {
  constructor() {
    this.charts = new Map();
    this.state = h("span", { class: "live connecting" }, t("dashboard.connecting"));
    this.updated = h("span", { class: "muted" });
    this.failure = h("div");
    this.empty = h("p", { class: "empty" }, t("dashboard.empty"));
    this.tallies = h("div", { class: "grid" });
    this.minutes = new MinuteChart(t("dashboard.minutesChart"));
    this.dropOff = new BarChart(t("dashboard.dropChart"), "call");
    this.dropSection = h("section", { class: "card", hidden: true }, h("h2", {}, t("dashboard.drop")),
      this.dropOff.element);
    this.element = h("div", {},
      h("p", { class: "live-line" }, this.state, " ", this.updated), this.failure,
      h("section", { "aria-label": t("dashboard.tallies") }, this.empty, this.tallies),
      h("section", { class: "card" }, h("h2", {}, t("dashboard.perMinute")), this.minutes.element), this.dropSection);
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
    this.connection(t("dashboard.live"), "on");
    this.updated.textContent = t("dashboard.updated", { time: time(Date.now(), "medium") });
    for (const [name, counts] of Object.entries(results.votes || {})) {
      this.chart(`vote:${name}`, t("dashboard.votes", { name }),
        () => new BarChart(t("dashboard.votesFor", { name }), "vote")).update(Object.entries(counts));
    }
    for (const [question, counts] of Object.entries(results.answers || {})) {
      this.chart(`answer:${question}`, t("dashboard.answers", { name: question }),
        () => new BarChart(t("dashboard.answersTo", { name: question }), "answer")).update(Object.entries(counts));
    }
    for (const [pool, { codes, redeemed }] of Object.entries(results.codes || {})) {
      this.chart(`codes:${pool}`, t("dashboard.redeemed", { pool }),
        () => new CodesMeter(pool, "dashboard.redeemedMeter", "dashboard.redeemedCount")).update(redeemed, codes);
    }
    for (const [pool, { codes, issued }] of Object.entries(results.issued || {})) {
      this.chart(`issued:${pool}`, t("dashboard.issued", { pool }),
        () => new CodesMeter(pool, "dashboard.issuedMeter", "dashboard.issuedCount")).update(issued, codes);
    }
    this.empty.hidden = this.charts.size > 0;
    this.minutes.update(results.calls_per_minute || []);
    const drops = Object.entries(results.drop_off || {}).map(([node, n]) => [node || t("dashboard.beforeFirst"), n]);
    this.dropSection.hidden = !drops.length;
    this.dropOff.update(drops);
  }
}

/** How many of a pool's codes are redeemed (or handed out): `meter` and `count` are catalogue keys. */
class CodesMeter {
  constructor(pool, meter, count) {
    this.count = count;
    this.meter = h("progress", { max: "1", value: "0", "aria-label": t(meter, { pool }) });
    this.text = h("p", { class: "total" });
    this.element = h("figure", { class: "chart" }, this.meter, this.text);
  }

  update(count, codes) {
    this.meter.max = Math.max(1, codes);
    this.meter.value = count;
    this.text.textContent = t(this.count, { count, n: codes });
  }
}
