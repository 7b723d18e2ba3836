// The operator's round-the-clock view of this node: calls now and per minute by campaign, SMS per minute,
// errors (webhooks, refused calls and SIP messages, the store's backlog, the media clock), the trunk
// registration, SMS operator links and, for administrators, who changed what. Refreshed every few seconds.

import { getJson } from "../api.js";
import { MinuteChart } from "../charts.js";
import { fill, h, link, table, when } from "../dom.js";
import { number, t, tn } from "../i18n.js";
import { roleName, showFailure } from "../page.js";

// Catalogue keys of who made a change and what the change was (the audit log's actors and actions)
const ACTORS = { cli: "node.actors.cli", node: "node.actors.node" };
const ACTIONS = { "tenant.create": "node.actions.tenant.create", "key.create": "node.actions.key.create",
  "key.revoke": "node.actions.key.revoke", "version.upload": "node.actions.version.upload",
  "version.activate": "node.actions.version.activate", "number.assign": "node.actions.number.assign",
  "number.release": "node.actions.number.release", "recording.upload": "node.actions.recording.upload" };

// why calls and SIP messages were refused (the engine's reason keys)
const REFUSALS = { over_capacity: "node.refusal.over_capacity", source_setup_limit: "node.refusal.source_setup_limit",
  caller_busy: "node.refusal.caller_busy", unknown_number: "node.refusal.unknown_number",
  bad_sdp: "node.refusal.bad_sdp", no_rtp_port: "node.refusal.no_rtp_port",
  rtp_bind_failed: "node.refusal.rtp_bind_failed", no_common_codec: "node.refusal.no_common_codec" };
const SIP_REASONS = { unparseable: "node.sip.unparseable", invalid: "node.sip.invalid", too_large: "node.sip.too_large",
  stray_response: "node.sip.stray_response", not_allowed: "node.sip.not_allowed", rate_limited: "node.sip.rate_limited",
  setup_refused: "node.sip.setup_refused", setup_evicted: "node.sip.setup_evicted" };

function named(table, key) {
  return table[key] ? t(table[key]) : key;
}

function actor(e, tenants) {
  if (ACTORS[e.actor_role]) {
    return e.actor_name ? t("node.actorNamed", { who: t(ACTORS[e.actor_role]), name: e.actor_name })
      : t(ACTORS[e.actor_role]);
  }
  return t("node.actorKey", { role: roleName(e.actor_role), key: e.actor_key_id,
    tenant: tenants.get(e.actor_tenant_id) || e.actor_tenant_id || "—" });
}
const REFRESH_SECONDS = 3;

export async function nodeView(root, params, { me, signal }) {
  const state = h("p", { class: "node-state", role: "status" });
  const feedback = h("div");
  const callsNow = h("div");
  const minutes = new MinuteChart(t("node.perMinuteChart"));
  const byCampaign = h("div");
  const sms = new MinuteChart(t("node.smsChart"), "message");
  const smsSummary = h("p", { class: "summary" });
  const errors = h("div");
  const failures = h("div");
  const trunk = h("div");
  const links = h("div");
  const changes = h("div");
  const card = (id, title, ...content) => h("section", { class: "card", id, "aria-labelledby": `${id}-h` },
    h("h2", { id: `${id}-h` }, title), ...content);
  root.append(h("h1", {}, t("node.heading")), h("p", { class: "help" }, tn("node.help", REFRESH_SECONDS)), state, feedback,
    card("calls-now", t("node.callsNow"), callsNow),
    card("per-minute", t("node.perMinute"), minutes.element, byCampaign),
    card("sms-per-minute", t("node.sms"), sms.element, smsSummary),
    card("errors", t("node.errors"), errors),
    card("failures", t("node.failures"), failures),
    card("trunk", t("node.trunk"), trunk),
    card("links", t("node.links"), links));
  if (me.role === "admin") root.append(card("changes", t("node.changes"), changes));    // DOM append writes null

  const [campaigns, tenants] = await Promise.all([getJson("/api/campaigns", { signal }),
    me.role === "admin" ? getJson("/api/tenants", { signal }) : []]);
  const names = new Map(campaigns.map((c) => [c.id, c.name]));
  const tenantNames = new Map(tenants.map((t) => [t.id, t.name]));
  const campaignLink = (id) => (id ? link(`campaigns/${encodeURIComponent(id)}`, names.get(id) || id) : "—");

  async function draw() {
    const [node, audit] = await Promise.all([getJson("/api/node", { signal }),
      me.role === "admin" ? getJson("/api/audit?limit=20", { signal }) : null]);
    state.textContent = node.draining ? t("node.draining") : node.ready ? t("node.ready") : t("node.starting");
    state.className = `node-state ${node.ready && !node.draining ? "status-ok" : "status-bad"}`;

    const now = Object.entries(node.calls_by_campaign).sort((a, b) => b[1] - a[1]);
    const total = now.reduce((sum, [, n]) => sum + n, 0);
    fill(callsNow, total ? h("p", { class: "calls-now-total" }, tn("node.callsNowTotal", total)) : null,
      table(t("node.callsNow"), [{ label: t("node.campaign"), cell: ([id]) => campaignLink(id) },
        { label: t("node.calls"), cell: ([, n]) => number(n) }], now, t("node.noCalls")));

    const everyMinute = new Map();
    for (const series of Object.values(node.calls_per_minute)) {
      for (const [minute, n] of series) everyMinute.set(minute, (everyMinute.get(minute) || 0) + n);
    }
    minutes.update([...everyMinute.entries()]);
    const thisMinute = new Date(Math.floor(Date.now() / 60000) * 60000).toISOString().slice(0, 16);
    fill(byCampaign, table(t("node.perMinute"), [
      { label: t("node.campaign"), cell: ([id]) => campaignLink(id) },
      { label: t("node.lastHour"), cell: ([, series]) => number(series.reduce((sum, [, n]) => sum + n, 0)) },
      { label: t("node.lastMinute"), cell: ([, series]) => number(series.filter(([m]) => m.slice(0, 16) === thisMinute)
        .reduce((sum, [, n]) => sum + n, 0)) },
    ], Object.entries(node.calls_per_minute), ""));

    sms.update(node.sms_per_minute.map(([minute, received, sent]) => [minute, received + sent]));
    smsSummary.textContent = t("node.smsSummary", { received: node.sms_per_minute.reduce((sum, [, r]) => sum + r, 0),
      sent: node.sms_per_minute.reduce((sum, [, , s]) => sum + s, 0) });

    const rows = [
      ["webhooks-failed", t("node.webhooksFailed"), node.webhooks.failed, node.webhooks.failed > 0],
      ["webhooks-refused", t("node.webhooksRefused"), node.webhooks.refused, node.webhooks.refused > 0],
      ["webhooks-ok", t("node.webhooksOk"), node.webhooks.ok, false],
      ...Object.entries(node.refused_calls).map(([reason, n]) => [`refused-${reason}`, t("node.refused", { reason: named(REFUSALS, reason) }), n, n > 0]),
      ...Object.entries(node.sip || {}).filter(([reason]) => reason !== "received")
        .map(([reason, n]) => [`sip-${reason}`, t("node.sipRefused", { reason: named(SIP_REASONS, reason) }), n, n > 0]),
      ["store-online", t("node.storeOnline"), node.store.online ? t("node.yes") : t("node.no"), !node.store.online],
      ["store-spool", t("node.spool"), node.store.spool, node.store.spool > 0],
      ["store-queue", t("node.queue"), node.store.queue, false],
      ["clock-late", t("node.late"), node.clock.late_ticks, false],
      ["clock-dropped", t("node.dropped"), node.clock.dropped_ticks, node.clock.dropped_ticks > 0],
    ];
    fill(errors, table(t("node.errors"), [
      { label: t("node.what"), cell: ([, what]) => what },
      { label: t("node.count"), cell: ([key, , value, bad]) => h("span", { class: bad ? "status-bad" : false,
        "data-key": key }, typeof value === "number" ? number(value) : value) },
    ], rows, ""));

    fill(failures, table(t("node.failures"), [
      { label: t("node.time"), cell: (f) => when(f.at) },
      { label: t("node.campaign"), cell: (f) => campaignLink(f.campaign_id) },
      { label: t("node.call"), cell: (f) => link(`calls/${encodeURIComponent(f.call_id)}`, `${f.channel} ${f.call_id.slice(0, 12)}`) },
      { label: t("node.step"), cell: (f) => f.node || "—" },
      { label: t("node.status"), cell: (f) => (f.status === null ? "—" : String(f.status)) },
      { label: t("node.error"), cell: (f) => f.error || "—" },
    ], node.webhook_failures, t("node.noFailures")));

    fill(trunk, node.trunk ? table(t("node.trunk"), [
      { label: t("node.registrar"), cell: (t) => t.registrar },
      { label: t("node.state"), cell: (t) => h("span", { class: t.registered ? "status-ok" : "status-bad" }, t.state) },
      { label: t("node.reason"), cell: (t) => t.reason || "—" },
    ], [node.trunk], "") : h("p", { class: "empty" }, t("node.noTrunk")));

    fill(links, table(t("node.links"), [
      { label: t("node.link"), cell: (l) => l.name },
      { label: t("node.state"), cell: (l) => h("span", { class: l.up ? "status-ok" : "status-bad" }, l.up ? t("node.bound") : t("node.notBound")) },
      { label: t("node.detail"), cell: (l) => l.detail || "—" },
    ], node.links, t("node.noLinks")));

    if (audit) {
      fill(changes, table(t("node.changes"), [
        { label: t("node.time"), cell: (e) => when(e.at) },
        { label: t("node.who"), cell: (e) => actor(e, tenantNames) },
        { label: t("node.action"), cell: (e) => ACTIONS[e.action] ? t(ACTIONS[e.action]) : e.action },
        { label: t("node.target"), cell: (e) => e.target },
        { label: t("node.details"), cell: (e) => Object.entries(e.details).filter(([, v]) => v !== null && v !== "")
          .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`).join("; ") || "—" },
      ], audit, t("node.noChanges")));
    }
  }

  await draw();
  (async () => {
    while (!signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, REFRESH_SECONDS * 1000));
      if (signal.aborted) return;
      try {
        await draw();
        fill(feedback);
      } catch (error) {
        fill(feedback);
        showFailure(error, feedback);
      }
    }
  })();
}
