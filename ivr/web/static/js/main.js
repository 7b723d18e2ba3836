// The page's frame: who is signed in, the menu for their role, and which view the #address shows.

import { session } from "./api.js";
import { fill, h, notice, parseHash } from "./dom.js";
import { LANGUAGES, language, setLanguage, t } from "./i18n.js";
import { roleName, showFailure, signOut } from "./page.js";
import { activeView } from "./views/active.js";
import { callView } from "./views/call.js";
import { callsView } from "./views/calls.js";
import { campaignsView } from "./views/campaigns.js";
import { dashboardView } from "./views/dashboard.js";
import { drawsView } from "./views/draws.js";
import { keysView, tenantsView } from "./views/admin.js";
import { campaignMoneyView, statementView } from "./views/money.js";
import { inventoryView, myNumbersView } from "./views/numbers.js";
import { poolView, poolsView } from "./views/pools.js";
import { signInView } from "./views/signin.js";
import { tariffsView } from "./views/tariffs.js";
import { uploadView } from "./views/upload.js";
import { versionsView } from "./views/versions.js";
import { voicePacksView } from "./views/voicepacks.js";
import { simulateView } from "./views/flow.js";
import { nodeView } from "./views/node.js";
import { outboundListView, outboundView } from "./views/outbound.js";

const BUSINESS = ["business", "admin"];
const BUSINESS_ONLY = ["business"];
const OPERATOR = ["operator", "admin"];
const ADMIN = ["admin"];
const EVERYONE = ["business", "operator", "admin"];

// [#address pattern, roles, view, menu label's catalogue key (only for menu entries)]
const ROUTES = [
  [["campaigns"], EVERYONE, campaignsView, "frame.menu.campaigns"],
  [["campaigns", ":id"], EVERYONE, dashboardView],
  [["campaigns", ":id", "versions"], BUSINESS, versionsView],
  [["campaigns", ":id", "draws"], EVERYONE, drawsView],
  [["campaigns", ":id", "simulate"], BUSINESS, simulateView],
  [["upload"], BUSINESS, uploadView, "frame.menu.upload"],
  [["pools"], BUSINESS, poolsView, "frame.menu.pools"],
  [["outbound"], BUSINESS, outboundListView, "frame.menu.outbound"],
  [["outbound", ":id"], BUSINESS, outboundView],
  [["pools", ":name"], BUSINESS, poolView],
  [["voice-packs"], BUSINESS, voicePacksView, "frame.menu.voicePacks"],
  [["calls"], EVERYONE, callsView, "frame.menu.calls"],
  [["calls", ":id"], EVERYONE, callView],
  [["active"], OPERATOR, activeView, "frame.menu.active"],
  [["node"], OPERATOR, nodeView, "frame.menu.node"],
  [["tenants"], ADMIN, tenantsView, "frame.menu.tenants"],
  [["tenants", ":id"], ADMIN, keysView],
  [["numbers"], BUSINESS_ONLY, myNumbersView, "frame.menu.numbers"],
  [["inventory"], ADMIN, inventoryView, "frame.menu.numbers"],
  [["tariffs"], BUSINESS, tariffsView, "frame.menu.tariffs"],
  [["statement"], BUSINESS, statementView, "frame.menu.money"],
  [["campaigns", ":id", "money"], BUSINESS, campaignMoneyView],
];

const main = document.getElementById("main");
let cleanup = null;

function match(parts) {
  for (const [pattern, roles, view] of ROUTES) {
    if (pattern.length !== parts.length) continue;
    const params = {};
    if (pattern.every((p, i) => (p.startsWith(":") ? ((params[p.slice(1)] = parts[i]), true) : p === parts[i]))) {
      return { roles, view, params };
    }
  }
  return null;
}

function drawFrame(me) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  nav.hidden = who.hidden = !me;
  if (!me) return;
  document.getElementById("who-text").textContent = `${me.tenant || "—"} · ${roleName(me.role)}`;
  const current = parseHash(location.hash).parts[0];
  fill(nav, h("ul", {}, ROUTES.filter(([pattern, roles, , label]) => label && roles.includes(me.role))
    .map(([pattern, , , label]) => h("li", {}, h("a", { href: `#/${pattern[0]}`,
      "aria-current": pattern[0] === current ? "page" : false }, t(label))))));
}

async function route() {
  if (cleanup) cleanup();
  cleanup = null;
  const { parts, query } = parseHash(location.hash);
  const me = session.me;
  if (!me || !session.key) {
    drawFrame(null);
    if (parts[0] !== "signin") {
      sessionStorage.setItem("ivr.next", location.hash);
      location.replace("#/signin");
      return;
    }
    const message = sessionStorage.getItem("ivr.signout");
    sessionStorage.removeItem("ivr.signout");
    fill(main);
    signInView(main, message, (next) => {
      location.hash = next || sessionStorage.getItem("ivr.next") || "#/campaigns";
      sessionStorage.removeItem("ivr.next");
    });
    return;
  }
  if (!parts.length || parts[0] === "signin") {
    location.replace("#/campaigns");
    return;
  }
  drawFrame(me);
  fill(main);
  const found = match(parts);
  if (!found) {
    main.append(h("h1", {}, t("frame.notFound")), h("p", {}, t("frame.noSuchPage",
      { link: h("a", { href: "#/campaigns" }, t("frame.toCampaigns")) })));
    return;
  }
  if (!found.roles.includes(me.role)) {
    main.append(h("h1", {}, t("frame.notAvailable")), notice("error",
      t("frame.notForRole", { role: roleName(me.role) })));
    return;
  }
  const controller = new AbortController();
  cleanup = () => controller.abort();
  try {
    await found.view(main, { ...found.params, query }, { me, signal: controller.signal });
  } catch (error) {
    if (!controller.signal.aborted) showFailure(error);
  }
  if (!controller.signal.aborted && document.activeElement === document.body) main.focus({ preventScroll: true });
}

/** The page's own words (index.html marks them with data-i18n) and the language menu. */
function drawLanguage() {
  for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  document.title = t("frame.brand");
  document.getElementById("nav").setAttribute("aria-label", t("frame.menu"));
  const menu = document.getElementById("language");
  menu.setAttribute("aria-label", t("frame.language"));
  fill(menu, LANGUAGES.map(([code, name]) => h("option", { value: code, lang: code, selected: code === language }, name)));
  menu.addEventListener("change", () => setLanguage(menu.value));
}

drawLanguage();
document.getElementById("sign-out").addEventListener("click", () => signOut(t("frame.signedOut")));
window.addEventListener("hashchange", route);
route();
