// Voice packs: a business's recorded words, one file a word (ваш.wav, гривні.mp3), uploaded as a zip or tar
// archive or one recording at a time; each pack is listed with the words it still lacks to say every number,
// amount, date and time of a language. Campaigns speak with a pack by its name:
// voice: {engine: voice-pack, voice: NAME}.

import { getJson, send } from "../api.js";
import { announce, fill, h, notice, table } from "../dom.js";
import { number, t, tn } from "../i18n.js";
import { showFailure } from "../page.js";
import { tenantPicker } from "../tenant.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const AUDIO = { wav: "audio/wav", mp3: "audio/mpeg", ogg: "audio/ogg" };
const ARCHIVE = { zip: "application/zip", tar: "application/x-tar", gz: "application/gzip", tgz: "application/gzip",
  bz2: "application/x-bzip2", xz: "application/x-xz" };
const LANGUAGES = { uk: "voicepacks.languages.uk", ru: "voicepacks.languages.ru", en: "voicepacks.languages.en" };

function extension(file) {
  return (file.name.match(/\.([A-Za-z0-9]+)$/) || [])[1]?.toLowerCase() || "";
}

function problemsOf(failure) {
  const problems = failure?.body?.problems;
  if (!Array.isArray(problems) || !problems.length) return null;
  return table(t("voicepacks.problemsCaption"), [
    { label: t("voicepacks.columns.file"), cell: (p) => h("code", {}, p.file || "—") },
    { label: t("voicepacks.columns.problem"), cell: (p) => p.message },
  ], problems, "");
}

export async function voicePacksView(root, params, { me, signal }) {
  const tenant = await tenantPicker(me, signal);
  const name = h("input", { id: "pack-name", required: true, autocomplete: "off", value: "brand",
    "aria-describedby": "pack-help" });
  const file = h("input", { id: "pack-file", type: "file",
    accept: ".zip,.tar,.gz,.tgz,.bz2,.xz,.wav,.mp3,.ogg,application/zip,application/gzip,audio/*" });
  const language = h("select", { id: "pack-language" },
    Object.entries(LANGUAGES).map(([code, key]) => h("option", { value: code }, t(key))));
  const button = h("button", { type: "submit" }, t("voicepacks.upload"));
  const feedback = h("div", { class: "feedback", "aria-live": "polite" });
  const list = h("div");
  const detail = h("div");
  const form = h("form", { class: "card", novalidate: true }, tenant.element,
    h("label", { for: "pack-name" }, t("voicepacks.pack")), name,
    h("p", { id: "pack-help", class: "help" }, t("voicepacks.packHelp")),
    h("label", { for: "pack-file" }, t("voicepacks.file")), file,
    h("p", { class: "help" }, t("voicepacks.fileHelp")),
    h("label", { for: "pack-language" }, t("voicepacks.language")), language,
    h("div", { class: "buttons" }, button));
  root.append(h("h1", {}, t("voicepacks.title")), h("p", { class: "help" }, t("voicepacks.intro")), form, feedback,
    list, detail);
  const path = (pack) => `/api/voice-packs/${encodeURIComponent(pack)}`;

  async function draw() {
    const packs = await getJson(`/api/voice-packs${tenant.query()}`, { signal });
    fill(list, table(t("voicepacks.caption"), [
      { label: t("voicepacks.columns.name"), cell: (p) => h("button", { type: "button", class: "link",
        onclick: () => show(p.name) }, p.name) },
      { label: t("voicepacks.columns.words"), cell: (p) => number(p.count) },
      { label: t("voicepacks.columns.version"), cell: (p) => h("code", {}, p.version) },
    ], packs, t("voicepacks.none")));
  }

  async function show(pack) {
    const query = `?language=${language.value}${tenant.query("&")}`;
    const found = await getJson(`${path(pack)}${query}`, { signal });
    const missing = found.missing[language.value] || [];
    const remove = h("button", { type: "button", class: "danger", onclick: async () => {
      if (!window.confirm(t("voicepacks.confirmDelete", { pack }))) return;
      try {
        await send("DELETE", `${path(pack)}${tenant.query()}`, { signal });
        fill(detail);
        announce(t("voicepacks.deleted", { pack }));
        await draw();
      } catch (error) {
        showFailure(error, detail);
      }
    } }, t("voicepacks.delete"));
    fill(detail, h("section", { class: "card", "aria-labelledby": "pack-title" },
      h("h2", { id: "pack-title" }, pack),
      h("p", {}, tn("voicepacks.recorded", found.count)),
      h("p", { class: "words" }, found.words.join(", ")),
      h("h3", {}, t("voicepacks.missingTitle", { language: t(LANGUAGES[language.value]) })),
      missing.length
        ? h("p", { class: "missing" }, tn("voicepacks.missing", missing.length), ": ", missing.join(", "))
        : notice("ok", t("voicepacks.complete")),
      h("div", { class: "buttons" }, remove)));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(feedback);
    const pack = name.value.trim();
    if (!NAME.test(pack)) {
      fill(feedback, notice("error", t("voicepacks.badName")));
      return;
    }
    const chosen = file.files[0];
    if (!chosen) {
      fill(feedback, notice("error", t("voicepacks.noFile")));
      return;
    }
    const ext = extension(chosen);
    const word = chosen.name.replace(/\.[^.]+$/, "");
    const target = AUDIO[ext] ? `${path(pack)}/words/${encodeURIComponent(word)}` : path(pack);
    button.disabled = true;
    try {
      const done = await send("PUT", `${target}${tenant.query()}`,
        { text: chosen, type: AUDIO[ext] || ARCHIVE[ext] || "application/octet-stream", signal });
      const said = t("voicepacks.uploaded", { pack, words: tn("voicepacks.recorded", done.count),
        replaced: tn("voicepacks.replaced", done.replaced.length) });
      fill(feedback, notice("ok", said));
      announce(said);
      await draw();
      await show(pack);
    } catch (error) {
      fill(feedback);
      showFailure(error, feedback);
      const problems = problemsOf(error);
      if (problems) feedback.append(problems);
    } finally {
      button.disabled = false;
    }
  });
  language.addEventListener("change", () => {
    const open = detail.querySelector("h2");
    if (open) show(open.textContent);
  });
  await draw();
}
