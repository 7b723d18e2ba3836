// Sign in with an API key: it is checked with GET /api/me and kept for this browser tab only.

import { ApiFailure, getJson, session } from "../api.js";
import { fill, h, notice } from "../dom.js";
import { t } from "../i18n.js";

export function signInView(root, message, done) {
  const input = h("input", { id: "key", name: "key", type: "password", autocomplete: "off", spellcheck: "false",
    required: true, "aria-describedby": "key-help" });
  const button = h("button", { type: "submit" }, t("signin.button"));
  const feedback = h("div", { class: "feedback" }, message ? notice("info", message) : null);
  const form = h("form", { class: "card narrow", novalidate: true }, feedback,
    h("label", { for: "key" }, t("signin.key")), input,
    h("p", { id: "key-help", class: "help" }, t("signin.help", { prefix: h("code", {}, "ivr_"),
      command: h("code", {}, "ivr keys create") })),
    button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      fill(feedback, notice("error", t("signin.empty")));
      input.focus();
      return;
    }
    button.disabled = true;
    fill(feedback, notice("info", t("signin.checking")));
    try {
      const me = await getJson("/api/me", { key });
      session.save(key, me);
      done();
    } catch (error) {
      fill(feedback, notice("error", error instanceof ApiFailure && error.status === 401
        ? t("signin.refused")
        : error.message));
      input.select();
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  root.append(h("h1", {}, t("signin.title")), form);
  input.focus();
}
