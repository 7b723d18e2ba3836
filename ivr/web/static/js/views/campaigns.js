// The tenant's campaigns (every tenant's for an administrator) with their numbers and version in service.

import { getJson } from "../api.js";
import { h, link, table } from "../dom.js";

const STATES = { draft: "Draft", live: "Live", paused: "Paused", ended: "Ended", archived: "Archived" };

export async function campaignsView(root, params, { me, signal }) {
  const business = me.role !== "operator";
  root.append(h("h1", {}, "Campaigns"));
  if (business) {
    root.append(h("p", {}, h("a", { href: "#/upload", class: "button" }, "Upload a campaign file")));
  }
  const [campaigns, tenants] = await Promise.all([
    getJson("/api/campaigns", { signal }),
    me.role === "admin" ? getJson("/api/tenants", { signal }) : [],
  ]);
  const tenantName = new Map(tenants.map((t) => [t.id, t.name]));
  const numbers = (c) => {
    const both = c.voice_numbers.filter((n) => c.sms_numbers.includes(n));
    const only = (list, what) => list.filter((n) => !both.includes(n)).map((n) => `${n} (${what})`);
    return [...both, ...only(c.voice_numbers, "calls"), ...only(c.sms_numbers, "SMS")].join(", ") || "—";
  };
  const columns = [
    { label: "Campaign", cell: (c) => [link(`campaigns/${encodeURIComponent(c.id)}`, c.name), h("br"),
      h("small", { class: "muted" }, c.id)] },
    { label: "Short numbers", cell: numbers },
    { label: "In service", cell: (c) => (c.active_version ? `version ${c.active_version} of ${c.versions}`
      : "nothing in service") },
    { label: "State", cell: (c) => h("span", { class: `state state-${c.state}` }, STATES[c.state] || c.state) },
  ];
  if (me.role === "admin") columns.splice(1, 0, { label: "Tenant", cell: (c) => tenantName.get(c.tenant_id) || "—" });
  columns.push({ label: "Actions", cell: (c) => h("span", { class: "actions" },
    link(`campaigns/${encodeURIComponent(c.id)}`, "Results", { "aria-label": `Results of ${c.name}` }),
    business && link(`campaigns/${encodeURIComponent(c.id)}/versions`, "Versions",
      { "aria-label": `Versions of ${c.name}` }),
    business && link(`campaigns/${encodeURIComponent(c.id)}/money`, "Money",
      { "aria-label": `Money of ${c.name}` }),
    link(`calls?campaign=${encodeURIComponent(c.id)}`, "Calls", { "aria-label": `Calls to ${c.name}` })) });
  const current = campaigns.filter((c) => c.state !== "archived");
  const archived = campaigns.filter((c) => c.state === "archived");
  root.append(table("Campaigns", columns, current,
    business ? "No campaigns yet. Upload a campaign file to create one." : "No campaigns yet."));
  if (archived.length) root.append(h("h2", {}, "Archived"), table("Archived campaigns", columns, archived, ""));
}
