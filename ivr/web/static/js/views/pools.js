// Code pools: the promo codes a business imports from files (one code a line or CSV, gzip too), how far an
// import is while it runs, and the lines it could not take (duplicates, malformed), by line number.

import { getJson, stream, upload } from "../api.js";
import { announce, fill, h, link, notice, table, when } from "../dom.js";
import { showFailure } from "../page.js";
import { tenantPicker } from "../tenant.js";

// Every word of these pages (one place, for a message catalogue to take over).
const TEXT = {
  title: "Code pools",
  intro: "A code pool holds the promo codes your campaigns redeem (a code node) or hand out (an issue node), "
    + "by the pool’s name. Import them from a file: one code a line, or CSV with a column named code; "
    + "a .gz file is fine too. Import more into the same pool at any time: codes already in it are skipped.",
  pool: "Pool name",
  poolHelp: "Letters, digits, - and _. A new name makes a new pool.",
  file: "File of codes",
  start: "Import the codes",
  noFile: "Choose a file of codes first.",
  badName: "A pool name is 1 to 64 letters, digits, - and _, starting with a letter or digit.",
  uploading: (percent) => `Sending the file… ${percent} %`,
  importing: (lines, added) => `Importing… ${lines.toLocaleString()} lines read, ${added.toLocaleString()} codes added`,
  committed: (added, pool) => `Done: ${added.toLocaleString()} codes added to ${pool}.`,
  failed: (error) => `The import failed and nothing of it was kept: ${error}`,
  problems: (dup, bad) => `${dup.toLocaleString()} duplicates and ${bad.toLocaleString()} malformed lines were skipped.`,
  listed: (n, all) => (n < all ? `The first ${n.toLocaleString()} are listed.` : ""),
  none: "No code pools yet. Import a file of codes to make one.",
  columns: { name: "Pool", codes: "Codes", redeemed: "Redeemed", issued: "Handed out", created: "Created" },
  imports: "Imports",
  importColumns: { file: "File", state: "State", added: "Added", duplicates: "Duplicates", malformed: "Malformed",
    started: "Started" },
  states: { running: "Running", committed: "Done", failed: "Failed" },
  problemColumns: { line: "Line", kind: "Problem", text: "Text" },
  kinds: { duplicate: "Duplicate", malformed: "Not a code" },
  back: "← Code pools",
  noImports: "No imports yet.",
};
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

function typeOf(file) {
  if (/\.gz$/i.test(file.name)) return "application/gzip";
  if (/\.csv$/i.test(file.name)) return "text/csv";
  return "text/plain";
}

function poolsTable(pools, me) {
  const c = TEXT.columns;
  const where = (p) => (me?.role === "admin" ? `?tenant=${encodeURIComponent(p.tenant_id)}` : "");
  return table(TEXT.title, [
    { label: c.name, cell: (p) => link(`pools/${encodeURIComponent(p.name)}${where(p)}`, p.name) },
    { label: c.codes, cell: (p) => p.codes.toLocaleString() },
    { label: c.redeemed, cell: (p) => p.redeemed.toLocaleString() },
    { label: c.issued, cell: (p) => p.issued.toLocaleString() },
    { label: c.created, cell: (p) => when(p.created_at) },
  ], pools, TEXT.none);
}

/** What an import found wrong, by line (the first ones), under a summary line. */
export function problemsOf(found) {
  if (!found.duplicates && !found.malformed) return null;
  const c = TEXT.problemColumns;
  return h("div", { class: "problems" },
    h("p", {}, TEXT.problems(found.duplicates, found.malformed), " ",
      TEXT.listed(found.problems.length, found.duplicates + found.malformed)),
    table("Problems by line", [
      { label: c.line, cell: (p) => String(p.line) },
      { label: c.kind, cell: (p) => `${TEXT.kinds[p.kind] || p.kind}: ${p.message}` },
      { label: c.text, cell: (p) => h("code", {}, p.text) },
    ], found.problems, ""));
}

export async function poolsView(root, params, { me, signal }) {
  const tenant = await tenantPicker(me, signal);
  const name = h("input", { id: "pool-name", required: true, autocomplete: "off", "aria-describedby": "pool-help" });
  const file = h("input", { id: "pool-file", type: "file", accept: ".txt,.csv,.gz,text/plain,text/csv,application/gzip" });
  const button = h("button", { type: "submit" }, TEXT.start);
  const bar = h("progress", { max: "1", value: "0", hidden: true, "aria-label": "Import progress" });
  const feedback = h("div", { class: "feedback", "aria-live": "polite" });
  const list = h("div");
  const form = h("form", { class: "card", novalidate: true }, tenant.element,
    h("label", { for: "pool-name" }, TEXT.pool), name, h("p", { id: "pool-help", class: "help" }, TEXT.poolHelp),
    h("label", { for: "pool-file" }, TEXT.file), file, h("div", { class: "buttons" }, button), bar);
  root.append(h("h1", {}, TEXT.title), h("p", { class: "help" }, TEXT.intro), form, feedback, list);

  async function draw() {
    fill(list, poolsTable(await getJson("/api/code-pools", { signal }), me));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(feedback);
    const pool = name.value.trim();
    if (!NAME.test(pool)) {
      fill(feedback, notice("error", TEXT.badName));
      return;
    }
    if (!file.files[0]) {
      fill(feedback, notice("error", TEXT.noFile));
      return;
    }
    button.disabled = true;
    bar.hidden = false;
    try {
      const chosen = file.files[0];
      const started = await upload("POST", `/api/code-pools/${encodeURIComponent(pool)}/imports?filename=`
        + encodeURIComponent(chosen.name) + tenant.query("&"), chosen, { type: typeOf(chosen), signal, onProgress: (sent, total) => {
        bar.max = total || 1;
        bar.value = sent;
        fill(feedback, notice("info", TEXT.uploading(Math.round((100 * sent) / (total || 1)))));
      } });
      const done = await follow(pool, started, bar, feedback, signal, tenant.query());
      fill(feedback, done.state === "committed"
        ? notice("ok", TEXT.committed(done.added, pool)) : notice("error", TEXT.failed(done.error)), problemsOf(done));
      announce(done.state === "committed" ? TEXT.committed(done.added, pool) : TEXT.failed(done.error));
      await draw();
    } catch (error) {
      fill(feedback);
      showFailure(error, feedback);
    } finally {
      button.disabled = false;
      bar.hidden = true;
    }
  });
  await draw();
}

/** Follow an import's progress events until it ends; the last state. */
async function follow(pool, found, bar, feedback, signal, query) {
  let last = found;
  const show = (data) => {
    last = data;
    bar.max = Math.max(1, data.bytes_total);
    bar.value = data.bytes_read;
    fill(feedback, notice("info", TEXT.importing(data.lines, data.added)));
  };
  show(found);
  await stream(`/api/code-pools/${encodeURIComponent(pool)}/imports/${found.id}/progress${query}`, (event, data) => {
    if (event === "progress") show(JSON.parse(data));
  }, signal);
  return last;
}

export async function poolView(root, { name, query }, { signal }) {
  const tenant = query.get("tenant") ? `?tenant=${encodeURIComponent(query.get("tenant"))}` : "";
  const pool = await getJson(`/api/code-pools/${encodeURIComponent(name)}${tenant}`, { signal });
  const c = TEXT.importColumns;
  const detail = h("div");
  root.append(h("p", {}, link("pools", TEXT.back)), h("h1", {}, pool.name), poolsTable([pool]),
    h("h2", {}, TEXT.imports),
    table(TEXT.imports, [
      { label: c.file, cell: (i) => h("button", { type: "button", class: "link", onclick: async () => {
        try {
          const found = await getJson(`/api/code-pools/${encodeURIComponent(name)}/imports/${i.id}${tenant}`,
            { signal });
          fill(detail, h("h2", {}, i.filename), found.error ? notice("error", TEXT.failed(found.error)) : null,
            problemsOf(found) || h("p", {}, TEXT.committed(found.added, name)));
        } catch (error) {
          showFailure(error, detail);
        }
      } }, i.filename) },
      { label: c.state, cell: (i) => TEXT.states[i.state] || i.state },
      { label: c.added, cell: (i) => i.added.toLocaleString() },
      { label: c.duplicates, cell: (i) => i.duplicates.toLocaleString() },
      { label: c.malformed, cell: (i) => i.malformed.toLocaleString() },
      { label: c.started, cell: (i) => when(i.started_at) },
    ], pool.imports, TEXT.noImports), detail);
}
