// What every view shares: role names, failures in plain words, signing out.

import { ApiFailure, session } from "./api.js";
import { notice } from "./dom.js";

export const ROLE_NAMES = { business: "business", operator: "operator", admin: "administrator" };

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
    signOut("Your key is no longer accepted (it may have been revoked). Sign in again.");
    return;
  }
  if (!(error instanceof ApiFailure)) console.error(error);
  where.append(notice("error", error instanceof ApiFailure ? error.message
    : "Something went wrong on this page. Reload it to try again."));
}
