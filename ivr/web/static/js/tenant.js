// Turnkey work: an administrator picks the tenant (the business) a campaign or a pool is for; the choice is
// sent as ?tenant=ID and what is made is that tenant's own. Nothing is shown to other roles.

import { getJson } from "./api.js";
import { h } from "./dom.js";

// Every word of this part of the page (one place, for a message catalogue to take over).
const TEXT = { label: "For tenant", own: "My own tenant", help: "An administrator builds it for a business: "
  + "it becomes that business’s own." };

/** {element, query(prefix)}: a tenant picker for administrators (element null for others); query gives
 * "" or "?tenant=ID" ("&tenant=ID" with prefix "&"). */
export async function tenantPicker(me, signal) {
  if (me.role !== "admin") return { element: null, query: () => "" };
  const tenants = await getJson("/api/tenants", { signal });
  const select = h("select", { id: "tenant", "aria-describedby": "tenant-help" }, h("option", { value: "" }, TEXT.own),
    tenants.map((t) => h("option", { value: t.id }, t.name)));
  return {
    element: h("div", {}, h("label", { for: "tenant" }, TEXT.label), select,
      h("p", { id: "tenant-help", class: "help" }, TEXT.help)),
    query: (prefix = "?") => (select.value ? `${prefix}tenant=${encodeURIComponent(select.value)}` : ""),
  };
}
