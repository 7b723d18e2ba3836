// One call: its summary, what the caller chose, the timeline step by step, and its voice messages.

import { blobUrl, getJson } from "../api.js";
import { h, link, seconds, when } from "../dom.js";
import { t } from "../i18n.js";
import { showFailure } from "../page.js";
import { disposition } from "./calls.js";

// Catalogue keys of the words for what the store records (codes, actions, message states)
const CODES = { redeemed: "call.code.redeemed", used: "call.code.used", invalid: "call.code.invalid",
  unavailable: "call.code.unavailable" };
const ISSUED = { issued: "call.issued.issued", again: "call.issued.again", exhausted: "call.issued.exhausted",
  unavailable: "call.issued.unavailable" };
const EFFECTS = { CastVote: "call.effect.CastVote", RedeemCode: "call.effect.RedeemCode", IssueCode: "call.effect.IssueCode",
  CallWebhook: "call.effect.CallWebhook", Notify: "call.effect.Notify", StartRecording: "call.effect.StartRecording",
  Transfer: "call.effect.Transfer", RouteRequest: "call.effect.RouteRequest" };
const OUTCOMES = { vote: "call.outcome.vote", answer: "call.outcome.answer", code: "call.outcome.code",
  issued: "call.outcome.issued" };
const COUNTED = { vote: "call.counted.vote", answer: "call.counted.answer", code: "call.counted.code",
  issued: "call.counted.issued" };
const MESSAGE_STATES = { queued: "call.sms.queued", accepted: "call.sms.accepted", delivered: "call.sms.delivered",
  undeliverable: "call.sms.undeliverable", expired: "call.sms.expired", rejected: "call.sms.rejected",
  failed: "call.sms.failed", blocked: "call.sms.blocked", returned: "call.sms.returned" };

/** `t(table[value])`, or the value itself when the table has no words for it. */
function named(table, value, params) {
  return table[value] ? t(table[value], params) : value;
}

/** A timeline event in plain words. */
function describe({ kind, data }) {
  const d = data || {};
  const step = d.node ? t("call.atStep", { node: d.node }) : "";
  switch (kind) {
    case "answered": return t("call.answered");
    case "node": return t("call.node", { node: d.node });
    case "prompt": return t("call.prompt", { text: d.text });
    case "listen": return d.timeout ? t("call.listenUpTo", { s: d.timeout }) : t("call.listen");
    case "dtmf": return t("call.dtmf", { digit: d.digit });
    case "input": return d.digits !== undefined ? t("call.digits", { digits: d.digits })
      : t(d.confidence !== undefined ? "call.said" : "call.sent", { text: d.text });
    case "match": return t("call.match", { value: d.value });
    case "nomatch": return d.input ? t("call.nomatchInput", { input: d.input }) : t("call.nomatch");
    case "noinput": return t("call.noinput");
    case "max_retries": return t("call.maxRetries");
    case "outcome": return COUNTED[d.outcome] ? t(COUNTED[d.outcome], { name: d.name, value: d.value })
      : t("call.counted", { kind: d.outcome, name: d.name, value: d.value });
    case "branch": return t("call.branch", { next: d.next });
    case "effect": return `${named(EFFECTS, d.action)}${step}`;
    case "vote_result": return d.accepted ? t("call.voteCounted") : d.unavailable ? t("call.voteUnavailable")
      : d.previous ? t("call.votedBeforeFor", { previous: d.previous }) : t("call.votedBefore");
    case "code_result": return CODES[d.status] ? t(CODES[d.status]) : t("call.codeStatus", { status: d.status });
    case "issue_result": return ISSUED[d.status] ? t(ISSUED[d.status], { code: d.code })
      : t("call.codeStatus", { status: d.status });
    case "closed": return t(d.reason === "paused" ? "call.closedPaused" : d.reason === "ended" ? "call.closedEnded"
      : "call.closedHours");
    case "webhook_result": return d.ok ? t("call.webhookOk") : d.error || d.status
      ? t("call.webhookFailedWhy", { why: d.error || d.status }) : t("call.webhookFailed");
    case "notify_result": return t(d.ok ? "call.notifyOk" : "call.notifyFailed");
    case "record_result": return d.recording_id ? t("call.recorded", { duration: seconds(d.duration) })
      : t("call.notRecorded");
    case "transfer": return t(d.accepted === false ? "call.transferRefused" : "call.transfer", { target: d.target });
    case "hangup": return `${t("call.hangup")}${step}`;
    case "end": return d.reason ? t("call.endReason", { reason: d.reason }) : t("call.end");
    default: {
      const details = Object.entries(d).filter(([k]) => k !== "node").map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
      return `${kind.replace(/_/g, " ")}${step}${details.length ? ` — ${details.join(", ")}` : ""}`;
    }
  }
}

export async function callView(root, { id }, { signal }) {
  const call = await getJson(`/api/calls/${encodeURIComponent(id)}`, { signal });
  const start = Date.parse(call.started_at);
  const ended = call.disposition ? disposition(call.disposition) : t("call.stillInProgress");
  const facts = [
    ["call.caller", call.caller], ["call.number", call.number],
    ["call.campaign", call.campaign_id ? link(`campaigns/${encodeURIComponent(call.campaign_id)}`, call.campaign_id,
      { "aria-label": t("call.resultsOf", { id: call.campaign_id }) }) : "—"],
    ["call.version", call.version ?? "—"], ["call.channel", call.channel === "sms" ? "SMS" : t("call.phoneCall")],
    ["call.started", when(call.started_at)], ["call.answeredAt", when(call.answered_at)],
    ["call.ended", when(call.ended_at)], ["call.duration", seconds(call.duration)],
    ["call.howEnded", `${ended}${call.cause ? ` (${call.cause})` : ""}`], ["call.lastStep", call.last_node || "—"],
  ];
  const recordings = h("ul", { class: "recordings" });
  root.append(
    h("p", {}, link("calls", t("call.back"))),
    h("h1", {}, t(call.channel === "sms" ? "call.smsTitle" : "call.callTitle", { caller: call.caller, number: call.number })),
    h("dl", { class: "facts card" }, facts.map(([k, v]) => h("div", {}, h("dt", {}, t(k)), h("dd", {}, v)))),
    h("section", {}, h("h2", {}, t("call.chose")),
      call.outcomes.length ? h("ul", {}, call.outcomes.map((o) => h("li", {},
        t("call.outcomeLine", { kind: named(OUTCOMES, o.kind), name: o.name }), " ", h("strong", {}, o.value))))
        : h("p", { class: "empty" }, t("call.nothingCounted"))),
    h("section", {}, h("h2", {}, t("call.timeline")),
      call.events.length ? h("ol", { class: "timeline" }, call.events.map((e) => h("li", {},
        h("span", { class: "offset" }, `+${seconds((Date.parse(e.at) - start) / 1000)}`), " ",
        h("span", { class: "event" }, describe(e))))) : h("p", { class: "empty" }, t("call.noSteps"))),
    h("section", { hidden: !call.recordings.length }, h("h2", {}, t("call.voiceMessages")), recordings),
    h("section", { hidden: !(call.messages || []).length }, h("h2", {}, t("call.textMessages")),
      h("table", { class: "messages" },
        h("thead", {}, h("tr", {}, ["call.sms.to", "call.sms.text", "call.sms.parts", "call.sms.state", "call.sms.sent"]
          .map((key) => h("th", { scope: "col" }, t(key))))),
        h("tbody", {}, (call.messages || []).map((m) => h("tr", {},
          h("td", {}, m.recipient), h("td", {}, m.text), h("td", {}, String(m.parts)),
          h("td", {}, `${named(MESSAGE_STATES, m.state)}${m.error ? ` (${m.error})` : ""}`),
          h("td", {}, when(m.created_at))))))));

  call.recordings.forEach(async (r, i) => {
    const label = r.duration ? t("call.voiceMessageLong", { n: i + 1, duration: seconds(r.duration) })
      : t("call.voiceMessage", { n: i + 1 });
    const item = h("li", {}, h("span", {}, label));
    recordings.append(item);
    try {
      const url = await blobUrl(r.url, { signal });
      signal.addEventListener("abort", () => URL.revokeObjectURL(url));
      item.append(h("audio", { controls: true, src: url, "aria-label": label }), " ",
        h("a", { href: url, download: r.id }, t("call.download")));
    } catch (error) {
      showFailure(error, item);
    }
  });
}
