// The languages of the interface. The person's choice (kept in localStorage), else the first of the browser's
// languages we speak, else English. The words of every page come from a catalogue per language,
// /ui/i18n/<lang>.json, loaded once (this module waits for it before any page is drawn); numbers and dates are
// written by the browser's Intl for that language. docs/i18n.md says how to add a string or a language.

/** [code, the language's own name], in the order the menu offers them (Ukrainian first). */
export const LANGUAGES = [["uk", "Українська"], ["ru", "Русский"], ["en", "English"]];
const CODES = LANGUAGES.map(([code]) => code);
const STORED = "ivr.lang";
// Intl locales: Ukraine's conventions for Ukrainian and Russian; English as the browser has it (else British)
const LOCALES = { uk: "uk-UA", ru: "ru-UA" };

function browserLanguages() {
  return (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"])
    .map((tag) => String(tag));
}

function choose() {
  const stored = localStorage.getItem(STORED);
  if (CODES.includes(stored)) return stored;
  for (const tag of browserLanguages()) {
    const primary = tag.toLowerCase().split("-")[0];
    if (CODES.includes(primary)) return primary;
  }
  return "en";
}

/** The language pages are shown in ("uk", "ru" or "en"). */
export const language = choose();
/** Its Intl locale (uk-UA, ru-UA, or the browser's English). */
export const locale = LOCALES[language]
  || browserLanguages().find((tag) => tag.toLowerCase().startsWith("en-")) || "en-GB";

async function load(code) {
  const response = await fetch(`/ui/i18n/${code}.json`);
  if (!response.ok) throw new Error(`the ${code} catalogue could not be loaded (${response.status})`);
  return response.json();
}

const [catalogue, fallback] = await Promise.all([load(language), language === "en" ? null : load("en")]);
const plurals = new Intl.PluralRules(locale);
const numbers = new Intl.NumberFormat(locale);
document.documentElement.lang = language;

/** Show the pages in `code` from now on (remembered in this browser). */
export function setLanguage(code) {
  localStorage.setItem(STORED, code);
  location.reload();
}

/** A number as the language writes it (12 345 in Ukrainian, 12,345 in English). */
export function number(n) {
  return numbers.format(n);
}

function show(value) {
  return typeof value === "number" ? number(value) : value;
}

/**
 * The text of `key` with its {placeholders} filled from `params` (numbers written for the language). A plural
 * entry picks its form by `params.n` (Intl.PluralRules: 1 дзвінок, 2 дзвінки, 5 дзвінків). When a param is an
 * element (a link, <code>) the answer is a list of text and elements, for h() to place in the page.
 */
export function t(key, params = {}) {
  let entry = catalogue[key] ?? fallback?.[key];
  if (entry === undefined) {
    console.warn(`ivr: no text for "${key}"`);
    return key;
  }
  if (typeof entry === "object") entry = entry[plurals.select(params.n ?? 0)] ?? entry.other;
  const parts = entry.split(/\{(\w+)\}/);
  if (!Object.values(params).some((v) => v instanceof Node)) {
    return parts.map((part, i) => (i % 2 ? (part in params ? show(params[part]) : `{${part}}`) : part)).join("");
  }
  return parts.map((part, i) => (i % 2 ? (part in params ? show(params[part]) : `{${part}}`) : part))
    .filter((part) => part !== "");
}

/** `t(key)` for `n` things: tn("unit.call", 5) is "5 дзвінків". */
export function tn(key, n, params = {}) {
  return t(key, { ...params, n });
}

/** A date and time as the language writes them (31 січ. 2026 р., 12:00:00). */
export function dateTime(value) {
  return new Date(value).toLocaleString(locale, { dateStyle: "medium", timeStyle: "medium" });
}

/** A time of day, hours and minutes (12:00). */
export function time(value, style = "short") {
  return new Date(value).toLocaleTimeString(locale, { timeStyle: style });
}
