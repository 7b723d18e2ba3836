// Small helpers to build the page: elements, tables, messages and plain-language formatting.

import { dateTime, t } from "./i18n.js";

/**
 * An element: h("a", {href: "#/x", class: "btn"}, "text", child...). Props starting with "on" are
 * listeners; false/null props and children are left out. Text is always set as text, never as HTML.
 */
export function h(tag, props = {}, ...children) {
  const element = tag.includes(":")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.split(":")[1])
    : document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.setAttribute("class", value);
    else if (name in element && !tag.includes(":") && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** Replace an element's content. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A table (on narrow screens each row is a card of "label: value" lines): columns [{label, cell(row)}]. */
export function table(caption, columns, rows, empty) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", { class: "stack" },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => h("td", { "data-label": c.label },
        c.cell(row))))))));
}

/** A message box: kind is "error", "ok" or "info"; errors are announced at once. */
export function notice(kind, ...children) {
  return h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, ...children);
}

/** Tell screen-reader users what changed (once: a notice on the page that says it is announced already). */
export function announce(text) {
  const status = document.getElementById("status");
  status.textContent = "";
  if ([...document.querySelectorAll(".notice")].some((shown) => shown.textContent.includes(text))) return;
  setTimeout(() => { status.textContent = text; }, 50);
}

/** A moment as the person's language writes it ("—" for none). */
export function when(iso) {
  if (!iso) return "—";
  return dateTime(iso);
}

/**
 * "1 call", "5 calls": English only, for a page merged before its words are in the catalogue (pages from the
 * billing and outbound branches use it; tests/unit/i18n fails until they use tn() with catalogue keys).
 */
export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** A duration: "4.5 s", "2 min 5 s" in the person's language. */
export function seconds(value) {
  if (value === null || value === undefined) return "—";
  if (value < 60) return t("common.seconds", { s: Math.round(value * 10) / 10 });
  const m = Math.floor(value / 60);
  return t("common.minutesSeconds", { m, s: Math.round(value - m * 60) });
}

/** Save an object URL as a file. */
export function download(url, filename) {
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Read a #/path?query hash: {parts: ["calls", "x"], query: URLSearchParams}. */
export function parseHash(hash) {
  const [path, query = ""] = hash.replace(/^#\/?/, "").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

export function link(path, text, props = {}) {
  return h("a", { href: `#/${path}`, ...props }, text);
}
