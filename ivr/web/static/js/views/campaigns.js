// The tenant's campaigns (every tenant's for an administrator) with their numbers and version in service.

import { getJson } from "../api.js";
import { h, link, table } from "../dom.js";
import { t } from "../i18n.js";

const STATES = { draft: "campaigns.state.draft", live: "campaigns.state.live", paused: "campaigns.state.paused",
  ended: "campaigns.state.ended", archived: "campaigns.state.archived" };

export async function campaignsView(root, params, { me, signal }) {
  const business = me.role !== "operator";
  root.append(h("h1", {}, t("campaigns.title")));
  if (business) {
    root.append(h("p", {}, h("a", { href: "#/upload", class: "button" }, t("campaigns.upload"))));
  }
  const [campaigns, tenants] = await Promise.all([
    getJson("/api/campaigns", { signal }),
    me.role === "admin" ? getJson("/api/tenants", { signal }) : [],
  ]);
  const tenantName = new Map(tenants.map((t) => [t.id, t.name]));
  const numbers = (c) => {
    const both = c.voice_numbers.filter((n) => c.sms_numbers.includes(n));
    const only = (list, key) => list.filter((n) => !both.includes(n)).map((n) => t(key, { number: n }));
    return [...both, ...only(c.voice_numbers, "campaigns.callsOnly"), ...only(c.sms_numbers, "campaigns.smsOnly")]
      .join(", ") || "—";
  };
  const columns = [
    { label: t("campaigns.campaign"), cell: (c) => [link(`campaigns/${encodeURIComponent(c.id)}`, c.name), h("br"),
      h("small", { class: "muted" }, c.id)] },
    { label: t("campaigns.numbers"), cell: numbers },
    { label: t("campaigns.inService"), cell: (c) => (c.active_version
      ? t("campaigns.versionOf", { version: c.active_version, versions: c.versions }) : t("campaigns.nothingInService")) },
    { label: t("campaigns.state"), cell: (c) => h("span", { class: `state state-${c.state}` },
      STATES[c.state] ? t(STATES[c.state]) : c.state) },
  ];
  if (me.role === "admin") columns.splice(1, 0, { label: t("campaigns.tenant"), cell: (c) => tenantName.get(c.tenant_id) || "—" });
  columns.push({ label: t("campaigns.actions"), cell: (c) => h("span", { class: "actions" },
    link(`campaigns/${encodeURIComponent(c.id)}`, t("campaigns.results"),
      { "aria-label": t("campaigns.resultsOf", { name: c.name }) }),
    business && link(`campaigns/${encodeURIComponent(c.id)}/versions`, t("campaigns.versions"),
      { "aria-label": t("campaigns.versionsOf", { name: c.name }) }),
    business && link(`campaigns/${encodeURIComponent(c.id)}/money`, t("campaigns.money"),
      { "aria-label": t("campaigns.moneyOf", { name: c.name }) }),
    link(`calls?campaign=${encodeURIComponent(c.id)}`, t("campaigns.calls"),
      { "aria-label": t("campaigns.callsTo", { name: c.name }) })) });
  const current = campaigns.filter((c) => c.state !== "archived");
  const archived = campaigns.filter((c) => c.state === "archived");
  root.append(table(t("campaigns.title"), columns, current,
    business ? t("campaigns.noneUpload") : t("campaigns.none")));
  if (archived.length) {
    root.append(h("h2", {}, t("campaigns.archived")), table(t("campaigns.archivedCaption"), columns, archived, ""));
  }
}
