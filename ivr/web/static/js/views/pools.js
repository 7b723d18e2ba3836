// Code pools: the promo codes a business imports from files (one code a line or CSV, gzip too), how far an
// import is while it runs, and the lines it could not take (duplicates, malformed), by line number.

import { getJson, stream, upload } from "../api.js";
import { announce, fill, h, link, notice, table, when } from "../dom.js";
import { number, t, tn } from "../i18n.js";
import { showFailure } from "../page.js";
import { tenantPicker } from "../tenant.js";

const STATES = { running: "pools.states.running", committed: "pools.states.committed", failed: "pools.states.failed" };
const KINDS = { duplicate: "pools.kinds.duplicate", malformed: "pools.kinds.malformed" };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

function typeOf(file) {
  if (/\.gz$/i.test(file.name)) return "application/gzip";
  if (/\.csv$/i.test(file.name)) return "text/csv";
  return "text/plain";
}

function poolsTable(pools, me) {
  const where = (p) => (me?.role === "admin" ? `?tenant=${encodeURIComponent(p.tenant_id)}` : "");
  return table(t("pools.title"), [
    { label: t("pools.columns.name"), cell: (p) => link(`pools/${encodeURIComponent(p.name)}${where(p)}`, p.name) },
    { label: t("pools.columns.codes"), cell: (p) => number(p.codes) },
    { label: t("pools.columns.redeemed"), cell: (p) => number(p.redeemed) },
    { label: t("pools.columns.issued"), cell: (p) => number(p.issued) },
    { label: t("pools.columns.created"), cell: (p) => when(p.created_at) },
  ], pools, t("pools.none"));
}

function committed(added, pool) {
  return t("pools.committed", { codes: tn("pools.codes", added), pool });
}

/** What an import found wrong, by line (the first ones), under a summary line. */
export function problemsOf(found) {
  if (!found.duplicates && !found.malformed) return null;
  const listed = found.problems.length < found.duplicates + found.malformed
    ? ` ${tn("pools.listed", found.problems.length)}` : "";
  return h("div", { class: "problems" },
    h("p", {}, t("pools.problems", { duplicates: tn("pools.duplicates", found.duplicates),
      malformed: tn("pools.malformed", found.malformed) }) + listed),
    table(t("pools.problemsCaption"), [
      { label: t("pools.problemColumns.line"), cell: (p) => String(p.line) },
      { label: t("pools.problemColumns.kind"), cell: (p) => `${KINDS[p.kind] ? t(KINDS[p.kind]) : p.kind}: ${p.message}` },
      { label: t("pools.problemColumns.text"), cell: (p) => h("code", {}, p.text) },
    ], found.problems, ""));
}

export async function poolsView(root, params, { me, signal }) {
  const tenant = await tenantPicker(me, signal);
  const name = h("input", { id: "pool-name", required: true, autocomplete: "off", "aria-describedby": "pool-help" });
  const file = h("input", { id: "pool-file", type: "file", accept: ".txt,.csv,.gz,text/plain,text/csv,application/gzip" });
  const button = h("button", { type: "submit" }, t("pools.start"));
  const bar = h("progress", { max: "1", value: "0", hidden: true, "aria-label": t("pools.progress") });
  const feedback = h("div", { class: "feedback", "aria-live": "polite" });
  const list = h("div");
  const form = h("form", { class: "card", novalidate: true }, tenant.element,
    h("label", { for: "pool-name" }, t("pools.pool")), name, h("p", { id: "pool-help", class: "help" }, t("pools.poolHelp")),
    h("label", { for: "pool-file" }, t("pools.file")), file, h("div", { class: "buttons" }, button), bar);
  root.append(h("h1", {}, t("pools.title")), h("p", { class: "help" }, t("pools.intro")), form, feedback, list);

  async function draw() {
    fill(list, poolsTable(await getJson("/api/code-pools", { signal }), me));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(feedback);
    const pool = name.value.trim();
    if (!NAME.test(pool)) {
      fill(feedback, notice("error", t("pools.badName")));
      return;
    }
    if (!file.files[0]) {
      fill(feedback, notice("error", t("pools.noFile")));
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
        fill(feedback, notice("info", t("pools.uploading", { percent: Math.round((100 * sent) / (total || 1)) })));
      } });
      const done = await follow(pool, started, bar, feedback, signal, tenant.query());
      const said = done.state === "committed" ? committed(done.added, pool) : t("pools.failed", { error: done.error });
      fill(feedback, notice(done.state === "committed" ? "ok" : "error", said), problemsOf(done));
      announce(said);
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
    fill(feedback, notice("info", t("pools.importing", { lines: tn("pools.lines", data.lines),
      added: tn("pools.codes", data.added) })));
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
  const detail = h("div");
  root.append(h("p", {}, link("pools", t("pools.back"))), h("h1", {}, pool.name), poolsTable([pool]),
    h("h2", {}, t("pools.imports")),
    table(t("pools.imports"), [
      { label: t("pools.importColumns.file"), cell: (i) => h("button", { type: "button", class: "link", onclick: async () => {
        try {
          const found = await getJson(`/api/code-pools/${encodeURIComponent(name)}/imports/${i.id}${tenant}`,
            { signal });
          fill(detail, h("h2", {}, i.filename), found.error ? notice("error", t("pools.failed", { error: found.error }))
            : null, problemsOf(found) || h("p", {}, committed(found.added, name)));
        } catch (error) {
          showFailure(error, detail);
        }
      } }, i.filename) },
      { label: t("pools.importColumns.state"), cell: (i) => (STATES[i.state] ? t(STATES[i.state]) : i.state) },
      { label: t("pools.importColumns.added"), cell: (i) => number(i.added) },
      { label: t("pools.importColumns.duplicates"), cell: (i) => number(i.duplicates) },
      { label: t("pools.importColumns.malformed"), cell: (i) => number(i.malformed) },
      { label: t("pools.importColumns.started"), cell: (i) => when(i.started_at) },
    ], pool.imports, t("pools.noImports")), detail);
}
