// Where a campaign is in its life (draft, live, paused, ended, archived) and what can be done next: pause and
// resume, set an end, archive, delete a draft. Shown on the campaign's page.

import { send } from "../api.js";
import { announce, fill, h, notice, when } from "../dom.js";
import { t } from "../i18n.js";
import { showFailure } from "../page.js";

// What the card says of each state (catalogue keys)
const STATES = { draft: "lifecycle.draft", live: "lifecycle.live", paused: "lifecycle.paused", ended: "lifecycle.ended",
  archived: "lifecycle.archived" };
const DONE = { pause: "lifecycle.done.pause", resume: "lifecycle.done.resume", end: "lifecycle.done.end",
  archive: "lifecycle.done.archive" };

function stateText(state, c) {
  if (state === "live" && c.ends_at) return t("lifecycle.liveUntil", { since: when(c.live_at), ends: when(c.ends_at) });
  return t(STATES[state], { since: when(c.live_at || null), paused: when(c.paused_at || null),
    ends: when(c.ends_at || null), archived: when(c.archived_at || null) });
}

/** The card: `campaign` as listed by GET /api/campaigns; `changed(campaign or null)` after a change. */
export function lifecycleCard(campaign, { me, signal, changed }) {
  const path = `/api/campaigns/${encodeURIComponent(campaign.id)}`;
  const card = h("section", { class: "card lifecycle", "aria-label": t("lifecycle.title") });
  const feedback = h("div", { "aria-live": "polite" });

  async function act(what, options = {}) {
    fill(feedback);
    try {
      if (what === "delete") {
        await send("DELETE", path, { signal });
        announce(t("lifecycle.deleted"));
        changed(null);
        return;
      }
      const next = await send("POST", `${path}/${what}`, { json: options.body, signal });
      announce(t(DONE[what]));
      changed({ ...campaign, ...next });
    } catch (error) {
      showFailure(error, feedback);
    }
  }

  const state = campaign.state || "draft";
  const buttons = [];
  if (me.role !== "operator") {
    if (state === "live") buttons.push(h("button", { type: "button", onclick: () => act("pause") }, t("lifecycle.pause")));
    if (state === "paused") buttons.push(h("button", { type: "button", onclick: () => act("resume") }, t("lifecycle.resume")));
    if (state === "live" || state === "paused") {
      const at = h("input", { id: "end-at", type: "datetime-local", step: "60" });
      buttons.push(h("span", { class: "end-at" }, h("label", { for: "end-at", class: "inline-label" }, t("lifecycle.endAt")), at,
        h("button", { type: "button", class: "secondary", onclick: () => (at.value
          ? act("end", { body: { at: new Date(at.value).toISOString() } })
          : fill(feedback, notice("error", t("lifecycle.pickTime")))) }, t("lifecycle.setEnd")),
        h("button", { type: "button", class: "secondary", onclick: () => act("end", { body: {} }) }, t("lifecycle.endNow"))));
    }
    if (state === "ended") buttons.push(h("button", { type: "button", class: "secondary",
      onclick: () => act("end", { body: { at: null } }) }, t("lifecycle.noEnd")));
    if (state === "paused" || state === "ended") {
      buttons.push(h("button", { type: "button", class: "secondary",
        onclick: () => window.confirm(t("lifecycle.confirmArchive")) && act("archive") }, t("lifecycle.archive")));
    }
    if (state === "draft") {
      buttons.push(h("button", { type: "button", class: "secondary",
        onclick: () => window.confirm(t("lifecycle.confirmDelete")) && act("delete") }, t("lifecycle.deleteDraft")));
    }
  }
  card.append(h("h2", {}, t("lifecycle.title")), h("p", { class: `state state-${state}` }, stateText(state, campaign)),
    buttons.length ? h("div", { class: "buttons" }, buttons) : null, feedback);
  return card;
}
