// The operator's round-the-clock view of this node: calls now and per minute by campaign, SMS per minute,
// errors (webhooks, refused calls and SIP messages, the store's backlog, the media clock), the trunk
// registration, SMS operator links and, for administrators, who changed what. Refreshed every few seconds.

import { getJson } from "../api.js";
import { MinuteChart } from "../charts.js";
import { fill, h, link, table, when } from "../dom.js";
import { showFailure } from "../page.js";

// Every word this page shows (one place, for translation).
const T = {
  heading: "This node",
  help: (s) => `Health of this server and traffic of the last hour, refreshed every ${s} seconds. Traffic per minute `
    + "and failed webhooks count every server sharing the database.",
  ready: "Answering calls",
  draining: "Draining: finishing calls, taking no new ones",
  starting: "Starting",
  callsNow: "Calls now",
  callsNowTotal: (n) => `${n} in progress`,
  noCalls: "No calls in progress.",
  campaign: "Campaign",
  calls: "Calls",
  perMinute: "Calls per minute",
  perMinuteChart: "Calls per minute over the last hour, all campaigns",
  lastHour: "Last hour",
  lastMinute: "Last minute",
  sms: "SMS per minute",
  smsChart: "SMS received and sent per minute over the last hour",
  smsUnit: "message",
  smsSummary: (received, sent) => `${received} received and ${sent} sent in the last hour.`,
  errors: "Errors",
  what: "What",
  count: "Count",
  webhooksFailed: "Webhooks failed (after retries)",
  webhooksRefused: "Webhooks refused (private or bad address)",
  webhooksOk: "Webhooks answered",
  refused: (reason) => `Calls refused: ${reason}`,
  sipRefused: (reason) => `SIP messages refused: ${reason}`,
  spool: "Store: records waiting in the spool",
  queue: "Store: records queued for writing",
  storeOnline: "Store: database reachable",
  yes: "yes",
  no: "no",
  late: "Media clock: late ticks",
  dropped: "Media clock: dropped ticks",
  failures: "Latest failed webhooks",
  noFailures: "No webhook failed in the last 24 hours.",
  time: "Time",
  call: "Call",
  step: "Step",
  status: "Answer",
  error: "Error",
  trunk: "Trunk registration",
  noTrunk: "No trunk registration configured on this node.",
  registrar: "Registrar",
  state: "State",
  reason: "Reason",
  links: "SMS operator links",
  noLinks: "No SMS operator links (SMSC binds) on this node.",
  link: "Link",
  bound: "Bound",
  notBound: "Not bound",
  detail: "Detail",
  changes: "Recent changes",
  noChanges: "No changes recorded yet.",
  who: "Who",
  action: "Change",
  target: "Of",
  details: "Details",
  actors: { cli: "command line", node: "the node itself" },
  actor: (e, tenants) => (T.actors[e.actor_role] ? `${T.actors[e.actor_role]}${e.actor_name ? ` (${e.actor_name})` : ""}`
    : `${e.actor_role} key ${e.actor_key_id} of ${tenants.get(e.actor_tenant_id) || e.actor_tenant_id || "—"}`),
  actions: { "tenant.create": "tenant created", "key.create": "key created", "key.revoke": "key revoked",
    "version.upload": "version uploaded", "version.activate": "version put in service",
    "number.assign": "number assigned", "number.release": "number given up", "recording.upload": "recording uploaded" },
};
const REFRESH_SECONDS = 3;

export async function nodeView(root, params, { me, signal }) {
  const state = h("p", { class: "node-state", role: "status" });
  const feedback = h("div");
  const callsNow = h("div");
  const minutes = new MinuteChart(T.perMinuteChart);
  const byCampaign = h("div");
  const sms = new MinuteChart(T.smsChart, T.smsUnit);
  const smsSummary = h("p", { class: "summary" });
  const errors = h("div");
  const failures = h("div");
  const trunk = h("div");
  const links = h("div");
  const changes = h("div");
  const card = (id, title, ...content) => h("section", { class: "card", id, "aria-labelledby": `${id}-h` },
    h("h2", { id: `${id}-h` }, title), ...content);
  root.append(h("h1", {}, T.heading), h("p", { class: "help" }, T.help(REFRESH_SECONDS)), state, feedback,
    card("calls-now", T.callsNow, callsNow),
    card("per-minute", T.perMinute, minutes.element, byCampaign),
    card("sms-per-minute", T.sms, sms.element, smsSummary),
    card("errors", T.errors, errors),
    card("failures", T.failures, failures),
    card("trunk", T.trunk, trunk),
    card("links", T.links, links),
    me.role === "admin" ? card("changes", T.changes, changes) : null);

  const [campaigns, tenants] = await Promise.all([getJson("/api/campaigns", { signal }),
    me.role === "admin" ? getJson("/api/tenants", { signal }) : []]);
  const names = new Map(campaigns.map((c) => [c.id, c.name]));
  const tenantNames = new Map(tenants.map((t) => [t.id, t.name]));
  const campaignLink = (id) => (id ? link(`campaigns/${encodeURIComponent(id)}`, names.get(id) || id) : "—");

  async function draw() {
    const [node, audit] = await Promise.all([getJson("/api/node", { signal }),
      me.role === "admin" ? getJson("/api/audit?limit=20", { signal }) : null]);
    state.textContent = node.draining ? T.draining : node.ready ? T.ready : T.starting;
    state.className = `node-state ${node.ready && !node.draining ? "status-ok" : "status-bad"}`;

    const now = Object.entries(node.calls_by_campaign).sort((a, b) => b[1] - a[1]);
    const total = now.reduce((sum, [, n]) => sum + n, 0);
    fill(callsNow, total ? h("p", { class: "calls-now-total" }, T.callsNowTotal(total)) : null,
      table(T.callsNow, [{ label: T.campaign, cell: ([id]) => campaignLink(id) },
        { label: T.calls, cell: ([, n]) => String(n) }], now, T.noCalls));

    const everyMinute = new Map();
    for (const series of Object.values(node.calls_per_minute)) {
      for (const [minute, n] of series) everyMinute.set(minute, (everyMinute.get(minute) || 0) + n);
    }
    minutes.update([...everyMinute.entries()]);
    const thisMinute = new Date(Math.floor(Date.now() / 60000) * 60000).toISOString().slice(0, 16);
    fill(byCampaign, table(T.perMinute, [
      { label: T.campaign, cell: ([id]) => campaignLink(id) },
      { label: T.lastHour, cell: ([, series]) => String(series.reduce((sum, [, n]) => sum + n, 0)) },
      { label: T.lastMinute, cell: ([, series]) => String(series.filter(([m]) => m.slice(0, 16) === thisMinute)
        .reduce((sum, [, n]) => sum + n, 0)) },
    ], Object.entries(node.calls_per_minute), ""));

    sms.update(node.sms_per_minute.map(([minute, received, sent]) => [minute, received + sent]));
    smsSummary.textContent = T.smsSummary(node.sms_per_minute.reduce((sum, [, r]) => sum + r, 0),
      node.sms_per_minute.reduce((sum, [, , s]) => sum + s, 0));

    const rows = [
      ["webhooks-failed", T.webhooksFailed, node.webhooks.failed, node.webhooks.failed > 0],
      ["webhooks-refused", T.webhooksRefused, node.webhooks.refused, node.webhooks.refused > 0],
      ["webhooks-ok", T.webhooksOk, node.webhooks.ok, false],
      ...Object.entries(node.refused_calls).map(([reason, n]) => [`refused-${reason}`, T.refused(reason), n, n > 0]),
      ...Object.entries(node.sip || {}).filter(([reason]) => reason !== "received")
        .map(([reason, n]) => [`sip-${reason}`, T.sipRefused(reason), n, n > 0]),
      ["store-online", T.storeOnline, node.store.online ? T.yes : T.no, !node.store.online],
      ["store-spool", T.spool, node.store.spool, node.store.spool > 0],
      ["store-queue", T.queue, node.store.queue, false],
      ["clock-late", T.late, node.clock.late_ticks, false],
      ["clock-dropped", T.dropped, node.clock.dropped_ticks, node.clock.dropped_ticks > 0],
    ];
    fill(errors, table(T.errors, [
      { label: T.what, cell: ([, what]) => what },
      { label: T.count, cell: ([key, , value, bad]) => h("span", { class: bad ? "status-bad" : false,
        "data-key": key }, String(value)) },
    ], rows, ""));

    fill(failures, table(T.failures, [
      { label: T.time, cell: (f) => when(f.at) },
      { label: T.campaign, cell: (f) => campaignLink(f.campaign_id) },
      { label: T.call, cell: (f) => link(`calls/${encodeURIComponent(f.call_id)}`, `${f.channel} ${f.call_id.slice(0, 12)}`) },
      { label: T.step, cell: (f) => f.node || "—" },
      { label: T.status, cell: (f) => (f.status === null ? "—" : String(f.status)) },
      { label: T.error, cell: (f) => f.error || "—" },
    ], node.webhook_failures, T.noFailures));

    fill(trunk, node.trunk ? table(T.trunk, [
      { label: T.registrar, cell: (t) => t.registrar },
      { label: T.state, cell: (t) => h("span", { class: t.registered ? "status-ok" : "status-bad" }, t.state) },
      { label: T.reason, cell: (t) => t.reason || "—" },
    ], [node.trunk], "") : h("p", { class: "empty" }, T.noTrunk));

    fill(links, table(T.links, [
      { label: T.link, cell: (l) => l.name },
      { label: T.state, cell: (l) => h("span", { class: l.up ? "status-ok" : "status-bad" }, l.up ? T.bound : T.notBound) },
      { label: T.detail, cell: (l) => l.detail || "—" },
    ], node.links, T.noLinks));

    if (audit) {
      fill(changes, table(T.changes, [
        { label: T.time, cell: (e) => when(e.at) },
        { label: T.who, cell: (e) => T.actor(e, tenantNames) },
        { label: T.action, cell: (e) => T.actions[e.action] || e.action },
        { label: T.target, cell: (e) => e.target },
        { label: T.details, cell: (e) => Object.entries(e.details).filter(([, v]) => v !== null && v !== "")
          .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`).join("; ") || "—" },
      ], audit, T.noChanges));
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
