// Winner draws of a campaign: freeze its entries (their SHA-256 is shown to publish before the draw), draw
// the winners once with a seed given at that moment (and tell them by SMS), download entries and winners, check a
// draw again.

import { blobUrl, csvPath, getJson, send } from "../api.js";
import { announce, download, fill, h, link, notice, table, when } from "../dom.js";
import { number, t, tn } from "../i18n.js";
import { showFailure } from "../page.js";

const STATES = { frozen: "draws.states.frozen", drawn: "draws.states.drawn" };
// What became of a winner's SMS (the outbox's states); "blocked": the winner opted out and is not messaged.
const NOTICE_STATES = {
  queued: "draws.noticeStates.queued", blocked: "draws.noticeStates.blocked", accepted: "draws.noticeStates.accepted",
  delivered: "draws.noticeStates.delivered", undeliverable: "draws.noticeStates.failed",
  expired: "draws.noticeStates.failed", rejected: "draws.noticeStates.failed", failed: "draws.noticeStates.failed",
};

function noticeTable(notices) {
  return table(t("draws.noticesCaption"), [
    { label: t("draws.winnerColumns.place"), cell: (n) => String(n.place) },
    { label: t("draws.winnerColumns.caller"), cell: (n) => n.caller },
    { label: t("draws.noticeColumns.state"), cell: (n) => (NOTICE_STATES[n.state] ? t(NOTICE_STATES[n.state]) : n.state) },
  ], notices, "");
}

function messageField(id) {
  return h("textarea", { id, rows: "3", maxlength: "480", placeholder: t("draws.messagePlaceholder") });
}

function frozenText(one) {
  return t("draws.frozen", { entries: tn("draws.entries", one.entries), callers: tn("draws.callers", one.callers) });
}

export async function drawsView(root, { id }, { me, signal }) {
  const path = `/api/campaigns/${encodeURIComponent(id)}/draws`;
  const business = me.role !== "operator";
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  const detail = h("div");
  root.append(h("h1", {}, t("draws.title", { id })),
    h("p", { class: "actions" }, link(`campaigns/${encodeURIComponent(id)}`, t("draws.back"))),
    h("p", { class: "help" }, t("draws.intro")));
  if (business) {
    const since = h("input", { id: "draw-since", type: "datetime-local", step: "1" });
    const until = h("input", { id: "draw-until", type: "datetime-local", step: "1" });
    const button = h("button", { type: "submit" }, t("draws.freeze"));
    const form = h("form", { class: "card", novalidate: true }, h("div", { class: "filters" }, h("div", { class: "fields" },
      h("div", {}, h("label", { for: "draw-since" }, t("draws.since")), since),
      h("div", {}, h("label", { for: "draw-until" }, t("draws.until")), until))), h("div", { class: "buttons" }, button));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      fill(feedback);
      try {
        const body = {};
        if (since.value) body.since = new Date(since.value).toISOString();
        if (until.value) body.until = new Date(until.value).toISOString();
        const frozen = await send("POST", path, { json: body, signal });
        fill(feedback, notice("ok", frozenText(frozen)));
        announce(frozenText(frozen));
        await draw();
        await show(frozen.id);
      } catch (error) {
        showFailure(error, feedback);
      } finally {
        button.disabled = false;
      }
    });
    root.append(form);
  }
  root.append(feedback, list, detail);

  async function draw() {
    const draws = await getJson(path, { signal });
    fill(list, table(t("draws.caption"), [
      { label: t("draws.columns.frozen"), cell: (d) => when(d.frozen_at) },
      { label: t("draws.columns.entries"), cell: (d) => number(d.entries) },
      { label: t("draws.columns.state"), cell: (d) => (STATES[d.state] ? t(STATES[d.state]) : d.state) },
      { label: t("draws.columns.actions"), cell: (d) => h("button", { type: "button", class: "link",
        onclick: () => show(d.id), "aria-label": t("draws.openFrozen", { at: when(d.frozen_at) }) }, t("draws.open")) },
    ], draws, t("draws.none")));
  }

  async function show(drawId) {
    const one = await getJson(`${path}/${drawId}`, { signal });
    const here = `${path}/${drawId}`;
    const file = (name, label) => h("button", { type: "button", class: "link", onclick: async () => {
      try {
        download(await blobUrl(name === "entries" ? `${here}/${name}.csv` : csvPath(`${here}/${name}.csv`)),
          `${id}-draw-${drawId}-${name}.csv`);
      } catch (error) {
        showFailure(error, detail);
      }
    } }, label);
    const files = h("p", { class: "actions" }, file("entries", t("draws.entriesFile")),
      one.state === "drawn" && file("winners", t("draws.winnersFile")),
      one.state === "drawn" && h("button", { type: "button", class: "link", onclick: async () => {
        try {
          const verdict = await getJson(`${here}/verify`, { signal });
          detail.append(notice(verdict.ok ? "ok" : "error", t(verdict.ok ? "draws.verified" : "draws.notVerified")));
        } catch (error) {
          showFailure(error, detail);
        }
      } }, t("draws.verify")));
    const parts = [h("h2", {}, `${STATES[one.state] ? t(STATES[one.state]) : one.state} · ${when(one.frozen_at)}`),
      h("p", {}, frozenText(one)),
      h("p", {}, t("draws.fingerprint"), ": ", h("code", { class: "fingerprint" }, one.entries_sha256)), files];
    if (one.state === "drawn") {
      parts.push(h("p", {}, `${t("draws.seed")}: `, h("code", {}, one.seed)),
        table(t("draws.winnersCaption"), [
          { label: t("draws.winnerColumns.place"), cell: (w) => String(w.place) },
          { label: t("draws.winnerColumns.entry"), cell: (w) => String(w.entry) },
          { label: t("draws.winnerColumns.caller"), cell: (w) => w.caller },
        ], one.winners, ""));
      if (business && one.winners.length) {
        const text = messageField("draw-notice");
        const button = h("button", { type: "submit" }, t("draws.notifyButton"));
        const result = h("div");
        const form = h("form", { class: "card", novalidate: true },
          h("label", { for: "draw-notice" }, t("draws.message")), text,
          h("p", { class: "help" }, t("draws.messageHelp")), h("div", { class: "buttons" }, button), result);
        form.addEventListener("submit", async (event) => {
          event.preventDefault();
          button.disabled = true;
          fill(result);
          try {
            const answer = await send("POST", `${here}/notify`, { json: { text: text.value }, signal });
            const skipped = answer.notices.filter((n) => n.state === "blocked").length;
            const told = t("draws.notified", { sent: tn("draws.messages", answer.notices.length - skipped),
              skipped: tn("draws.optedOut", skipped) });
            fill(result, notice("ok", told), noticeTable(answer.notices));
            announce(told);
          } catch (error) {
            showFailure(error, result);
          } finally {
            button.disabled = false;
          }
        });
        parts.push(form);
      }
    } else if (business) {
      const winners = h("input", { id: "draw-winners", type: "number", min: "1", max: "10000", value: "1" });
      const seed = h("input", { id: "draw-seed", autocomplete: "off" });
      const text = messageField("draw-message");
      const button = h("button", { type: "submit" }, t("draws.drawButton"));
      const form = h("form", { class: "card", novalidate: true },
        h("label", { for: "draw-winners" }, t("draws.winners")), winners,
        h("label", { for: "draw-seed" }, t("draws.seedHelp")), seed,
        h("label", { for: "draw-message" }, t("draws.messageOptional")), text,
        h("p", { class: "help" }, t("draws.messageHelp")), h("div", { class: "buttons" }, button));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        button.disabled = true;
        try {
          const body = { winners: Number(winners.value) };
          if (seed.value.trim()) body.seed = seed.value.trim();
          if (text.value.trim()) body.notify = text.value;
          const drawn = await send("POST", `${here}/winners`, { json: body, signal });
          fill(feedback);
          announce(tn("draws.drawn", drawn.winners.length));
          await draw();
          await show(drawId);
          if (drawn.notices) detail.append(noticeTable(drawn.notices));
        } catch (error) {
          button.disabled = false;
          showFailure(error, form);
        }
      });
      parts.push(form);
    }
    fill(detail, ...parts);
  }
  await draw();
}
