// What every view shares: role names, failures in plain words, signing out.

import { ApiFailure, session } from "./api.js";
import { notice } from "./dom.js";
import { t } from "./i18n.js";

export const ROLES = ["business", "operator", "admin"];
const ROLE_KEYS = { business: "role.business", operator: "role.operator", admin: "role.admin" };

/** A role's name in the person's language. */
export function roleName(role) {
  return ROLE_KEYS[role] ? t(ROLE_KEYS[role]) : role;
}

/** Sign out and show the sign-in page with `message`. */
export function signOut(message) {
  session.clear();
  sessionStorage.setItem("ivr.signout", message || "");
  if (location.hash === "#/signin") window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = "#/signin";
}

/** Show a failure in plain words in `where`; a key that stopped working signs the person out. */
export function showFailure(error, where = document.getElementById("main")) {
  if (error.name === "AbortError") return;
  if (error instanceof ApiFailure && error.status === 401 && session.key) {
    signOut(t("frame.keyRevoked"));
    return;
  }
  if (!(error instanceof ApiFailure)) console.error(error);
  where.append(notice("error", error instanceof ApiFailure ? error.message
    : t("frame.pageFailed")));
}
