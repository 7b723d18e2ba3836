// Winner draws of a campaign: freeze its entries (their SHA-256 is shown to publish before the draw), draw
// the winners once with a seed given at that moment, download entries and winners, check a draw again.

import { blobUrl, getJson, send } from "../api.js";
import { announce, download, fill, h, link, notice, table, when } from "../dom.js";
import { showFailure } from "../page.js";

// Every word of this page (one place, for a message catalogue to take over).
const TEXT = {
  title: (id) => `Draws of ${id}`,
  intro: "A draw is made in two steps anyone can check. First freeze the entries: the list is fixed and its "
    + "SHA-256 fingerprint is shown; publish it. Then draw, with a seed nobody could know before (the numbers "
    + "of a public lottery, say): the winners follow from the list and the seed alone, and anyone can re-run "
    + "the draw with `ivr draw verify`.",
  since: "Entries from (optional)",
  until: "Entries until (optional)",
  freeze: "Freeze the entries",
  frozen: (n, callers) => `Entries frozen: ${n.toLocaleString()} from ${callers.toLocaleString()} callers.`,
  fingerprint: "SHA-256 of the entries (publish it before drawing)",
  winners: "Number of winners",
  seed: "Seed (given at draw time; leave empty for a random one, which is recorded)",
  drawButton: "Draw the winners",
  drawn: (n) => `${n} winners drawn.`,
  verify: "Check this draw again",
  verified: "Checked: the entries still have their published fingerprint and give the same winners.",
  notVerified: "The check FAILED: the entries or the winners differ from what was recorded.",
  entriesFile: "Download the entries (CSV)",
  winnersFile: "Download the winners (CSV)",
  none: "No draws yet.",
  columns: { frozen: "Frozen", entries: "Entries", state: "State", actions: "Actions" },
  states: { frozen: "Entries frozen, not drawn", drawn: "Drawn" },
  winnerColumns: { place: "Place", entry: "Entry", caller: "Caller" },
  open: "Open",
  back: "Results",
  seedShown: "Seed",
};

export async function drawsView(root, { id }, { me, signal }) {
  const path = `/api/campaigns/${encodeURIComponent(id)}/draws`;
  const business = me.role !== "operator";
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  const detail = h("div");
  root.append(h("h1", {}, TEXT.title(id)),
    h("p", { class: "actions" }, link(`campaigns/${encodeURIComponent(id)}`, TEXT.back)),
    h("p", { class: "help" }, TEXT.intro));
  if (business) {
    const since = h("input", { id: "draw-since", type: "datetime-local", step: "1" });
    const until = h("input", { id: "draw-until", type: "datetime-local", step: "1" });
    const button = h("button", { type: "submit" }, TEXT.freeze);
    const form = h("form", { class: "card", novalidate: true }, h("div", { class: "filters" }, h("div", { class: "fields" },
      h("div", {}, h("label", { for: "draw-since" }, TEXT.since), since),
      h("div", {}, h("label", { for: "draw-until" }, TEXT.until), until))), h("div", { class: "buttons" }, button));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      fill(feedback);
      try {
        const body = {};
        if (since.value) body.since = new Date(since.value).toISOString();
        if (until.value) body.until = new Date(until.value).toISOString();
        const frozen = await send("POST", path, { json: body, signal });
        fill(feedback, notice("ok", TEXT.frozen(frozen.entries, frozen.callers)));
        announce(TEXT.frozen(frozen.entries, frozen.callers));
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
    const c = TEXT.columns;
    fill(list, table("Draws", [
      { label: c.frozen, cell: (d) => when(d.frozen_at) },
      { label: c.entries, cell: (d) => d.entries.toLocaleString() },
      { label: c.state, cell: (d) => TEXT.states[d.state] || d.state },
      { label: c.actions, cell: (d) => h("button", { type: "button", class: "link", onclick: () => show(d.id),
        "aria-label": `Open the draw frozen ${when(d.frozen_at)}` }, TEXT.open) },
    ], draws, TEXT.none));
  }

  async function show(drawId) {
    const one = await getJson(`${path}/${drawId}`, { signal });
    const here = `${path}/${drawId}`;
    const file = (name, label) => h("button", { type: "button", class: "link", onclick: async () => {
      try {
        download(await blobUrl(`${here}/${name}.csv`), `${id}-draw-${drawId}-${name}.csv`);
      } catch (error) {
        showFailure(error, detail);
      }
    } }, label);
    const files = h("p", { class: "actions" }, file("entries", TEXT.entriesFile),
      one.state === "drawn" && file("winners", TEXT.winnersFile),
      one.state === "drawn" && h("button", { type: "button", class: "link", onclick: async () => {
        try {
          const verdict = await getJson(`${here}/verify`, { signal });
          detail.append(notice(verdict.ok ? "ok" : "error", verdict.ok ? TEXT.verified : TEXT.notVerified));
        } catch (error) {
          showFailure(error, detail);
        }
      } }, TEXT.verify));
    const parts = [h("h2", {}, `${TEXT.states[one.state]} · ${when(one.frozen_at)}`),
      h("p", {}, TEXT.frozen(one.entries, one.callers)),
      h("p", {}, TEXT.fingerprint, ": ", h("code", { class: "fingerprint" }, one.entries_sha256)), files];
    if (one.state === "drawn") {
      const c = TEXT.winnerColumns;
      parts.push(h("p", {}, `${TEXT.seedShown}: `, h("code", {}, one.seed)),
        table("Winners", [
          { label: c.place, cell: (w) => String(w.place) },
          { label: c.entry, cell: (w) => String(w.entry) },
          { label: c.caller, cell: (w) => w.caller },
        ], one.winners, ""));
    } else if (business) {
      const winners = h("input", { id: "draw-winners", type: "number", min: "1", max: "10000", value: "1" });
      const seed = h("input", { id: "draw-seed", autocomplete: "off" });
      const button = h("button", { type: "submit" }, TEXT.drawButton);
      const form = h("form", { class: "card", novalidate: true }, h("label", { for: "draw-winners" }, TEXT.winners),
        winners, h("label", { for: "draw-seed" }, TEXT.seed), seed, h("div", { class: "buttons" }, button));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        button.disabled = true;
        try {
          const body = { winners: Number(winners.value) };
          if (seed.value.trim()) body.seed = seed.value.trim();
          const drawn = await send("POST", `${here}/winners`, { json: body, signal });
          fill(feedback);
          announce(TEXT.drawn(drawn.winners.length));
          await draw();
          await show(drawId);
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
