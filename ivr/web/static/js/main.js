// The page's frame: who is signed in, the menu for their role, and which view the #address shows.

import { session } from "./api.js";
import { fill, h, notice, parseHash } from "./dom.js";
import { ROLE_NAMES, showFailure, signOut } from "./page.js";
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
import { simulateView } from "./views/flow.js";
import { nodeView } from "./views/node.js";

const BUSINESS = ["business", "admin"];
const BUSINESS_ONLY = ["business"];
const OPERATOR = ["operator", "admin"];
const ADMIN = ["admin"];
const EVERYONE = ["business", "operator", "admin"];

// [#address pattern, roles, view, menu label (only for menu entries)]
const ROUTES = [
  [["campaigns"], EVERYONE, campaignsView, "Campaigns"],
  [["campaigns", ":id"], EVERYONE, dashboardView],
  [["campaigns", ":id", "versions"], BUSINESS, versionsView],
  [["campaigns", ":id", "draws"], EVERYONE, drawsView],
  [["campaigns", ":id", "simulate"], BUSINESS, simulateView],
  [["upload"], BUSINESS, uploadView, "Upload a campaign"],
  [["pools"], BUSINESS, poolsView, "Code pools"],
  [["pools", ":name"], BUSINESS, poolView],
  [["calls"], EVERYONE, callsView, "Call log"],
  [["calls", ":id"], EVERYONE, callView],
  [["active"], OPERATOR, activeView, "Calls now"],
  [["node"], OPERATOR, nodeView, "This node"],
  [["tenants"], ADMIN, tenantsView, "Tenants and keys"],
  [["tenants", ":id"], ADMIN, keysView],
  [["numbers"], BUSINESS_ONLY, myNumbersView, "Numbers"],
  [["inventory"], ADMIN, inventoryView, "Numbers"],
  [["tariffs"], BUSINESS, tariffsView, "Tariffs"],
  [["statement"], BUSINESS, statementView, "Money"],
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
  document.getElementById("who-text").textContent = `${me.tenant || "—"} · ${ROLE_NAMES[me.role] || me.role}`;
  const current = parseHash(location.hash).parts[0];
  fill(nav, h("ul", {}, ROUTES.filter(([pattern, roles, , label]) => label && roles.includes(me.role))
    .map(([pattern, , , label]) => h("li", {}, h("a", { href: `#/${pattern[0]}`,
      "aria-current": pattern[0] === current ? "page" : false }, label)))));
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
    main.append(h("h1", {}, "Page not found"), h("p", {}, "There is no such page. ",
      h("a", { href: "#/campaigns" }, "Go to your campaigns"), "."));
    return;
  }
  if (!found.roles.includes(me.role)) {
    main.append(h("h1", {}, "Not available"), notice("error",
      `This page is not available with your key (role: ${ROLE_NAMES[me.role] || me.role}).`));
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

document.getElementById("sign-out").addEventListener("click", () => signOut("You have signed out."));
window.addEventListener("hashchange", route);
route();
