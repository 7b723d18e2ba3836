// Turnkey work: an administrator picks the tenant (the business) a campaign or a pool is for; the choice is
// sent as ?tenant=ID and what is made is that tenant's own. Nothing is shown to other roles.

import { getJson } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

/** {element, query(prefix)}: a tenant picker for administrators (element null for others); query gives
 * "" or "?tenant=ID" ("&tenant=ID" with prefix "&"). */
export async function tenantPicker(me, signal) {
  if (me.role !== "admin") return { element: null, query: () => "" };
  const tenants = await getJson("/api/tenants", { signal });
  const select = h("select", { id: "tenant", "aria-describedby": "tenant-help" }, h("option", { value: "" }, t("tenant.own")),
    tenants.map((t) => h("option", { value: t.id }, t.name)));
  return {
    element: h("div", {}, h("label", { for: "tenant" }, t("tenant.label")), select,
      h("p", { id: "tenant-help", class: "help" }, t("tenant.help"))),
    query: (prefix = "?") => (select.value ? `${prefix}tenant=${encodeURIComponent(select.value)}` : ""),
  };
}
