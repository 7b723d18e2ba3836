// Sign in with an API key: it is checked with GET /api/me and kept for this browser tab only.

import { ApiFailure, getJson, session } from "../api.js";
import { fill, h, notice } from "../dom.js";

export function signInView(root, message, done) {
  const input = h("input", { id: "key", name: "key", type: "password", autocomplete: "off", spellcheck: "false",
    required: true, "aria-describedby": "key-help" });
  const button = h("button", { type: "submit" }, "Sign in");
  const feedback = h("div", { class: "feedback" }, message ? notice("info", message) : null);
  const form = h("form", { class: "card narrow", novalidate: true }, feedback,
    h("label", { for: "key" }, "API key"), input,
    h("p", { id: "key-help", class: "help" }, "The key starts with ", h("code", {}, "ivr_"),
      ". Your administrator makes one with ", h("code", {}, "ivr keys create"),
      ". It is kept only in this browser tab until you sign out."),
    button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      fill(feedback, notice("error", "Type or paste your API key."));
      input.focus();
      return;
    }
    button.disabled = true;
    fill(feedback, notice("info", "Checking your key…"));
    try {
      const me = await getJson("/api/me", { key });
      session.save(key, me);
      done();
    } catch (error) {
      fill(feedback, notice("error", error instanceof ApiFailure && error.status === 401
        ? "That key was not accepted. Check that you copied all of it and that it has not been revoked."
        : error.message));
      input.select();
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  root.append(h("h1", {}, "Sign in"), form);
  input.focus();
}
