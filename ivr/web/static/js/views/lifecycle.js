// Where a campaign is in its life (draft, live, paused, ended, archived) and what can be done next: pause and
// resume, set an end, archive, delete a draft. Shown on the campaign's page.

import { send } from "../api.js";
import { announce, fill, h, notice, when } from "../dom.js";
import { showFailure } from "../page.js";

// Every word of this part of the page (one place, for a message catalogue to take over).
const TEXT = {
  title: "State",
  states: {
    draft: () => "Draft: never put in service.",
    live: (c) => `Live since ${when(c.live_at)}${c.ends_at ? `; ends ${when(c.ends_at)}` : ""}.`,
    paused: (c) => `Paused since ${when(c.paused_at)}: its numbers answer with the closed text.`,
    ended: (c) => `Ended ${when(c.ends_at)}: its numbers answer with the closed text.`,
    archived: (c) => `Archived ${when(c.archived_at)}: out of service for good. Its results are kept.`,
  },
  pause: "Pause",
  resume: "Resume",
  endAt: "End at",
  setEnd: "Set the end",
  endNow: "End now",
  noEnd: "Remove the end",
  archive: "Archive",
  deleteDraft: "Delete this draft",
  confirmArchive: "Archive this campaign? It stops answering for good and its short numbers are freed. "
    + "Its results are kept.",
  confirmDelete: "Delete this draft and its versions? This cannot be undone.",
  deleted: "The draft is deleted.",
  done: { pause: "The campaign is paused.", resume: "The campaign is live again.", end: "The end is set.",
    archive: "The campaign is archived." },
  pickTime: "Choose the date and time it ends.",
};

/** The card: `campaign` as listed by GET /api/campaigns; `changed(campaign or null)` after a change. */
export function lifecycleCard(campaign, { me, signal, changed }) {
  const path = `/api/campaigns/${encodeURIComponent(campaign.id)}`;
  const card = h("section", { class: "card lifecycle", "aria-label": TEXT.title });
  const feedback = h("div", { "aria-live": "polite" });

  async function act(what, options = {}) {
    fill(feedback);
    try {
      if (what === "delete") {
        await send("DELETE", path, { signal });
        announce(TEXT.deleted);
        changed(null);
        return;
      }
      const next = await send("POST", `${path}/${what}`, { json: options.body, signal });
      announce(TEXT.done[what]);
      changed({ ...campaign, ...next });
    } catch (error) {
      showFailure(error, feedback);
    }
  }

  const state = campaign.state || "draft";
  const buttons = [];
  if (me.role !== "operator") {
    if (state === "live") buttons.push(h("button", { type: "button", onclick: () => act("pause") }, TEXT.pause));
    if (state === "paused") buttons.push(h("button", { type: "button", onclick: () => act("resume") }, TEXT.resume));
    if (state === "live" || state === "paused") {
      const at = h("input", { id: "end-at", type: "datetime-local", step: "60" });
      buttons.push(h("span", { class: "end-at" }, h("label", { for: "end-at", class: "inline-label" }, TEXT.endAt), at,
        h("button", { type: "button", class: "secondary", onclick: () => (at.value
          ? act("end", { body: { at: new Date(at.value).toISOString() } })
          : fill(feedback, notice("error", TEXT.pickTime))) }, TEXT.setEnd),
        h("button", { type: "button", class: "secondary", onclick: () => act("end", { body: {} }) }, TEXT.endNow)));
    }
    if (state === "ended") buttons.push(h("button", { type: "button", class: "secondary",
      onclick: () => act("end", { body: { at: null } }) }, TEXT.noEnd));
    if (state === "paused" || state === "ended") {
      buttons.push(h("button", { type: "button", class: "secondary",
        onclick: () => window.confirm(TEXT.confirmArchive) && act("archive") }, TEXT.archive));
    }
    if (state === "draft") {
      buttons.push(h("button", { type: "button", class: "secondary",
        onclick: () => window.confirm(TEXT.confirmDelete) && act("delete") }, TEXT.deleteDraft));
    }
  }
  card.append(h("h2", {}, TEXT.title), h("p", { class: `state state-${state}` }, TEXT.states[state](campaign)),
    buttons.length ? h("div", { class: "buttons" }, buttons) : null, feedback);
  return card;
}
