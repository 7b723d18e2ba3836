// One call: its summary, what the caller chose, the timeline step by step, and its voice messages.

import { blobUrl, getJson } from "../api.js";
import { h, link, seconds, when } from "../dom.js";
import { showFailure } from "../page.js";
import { DISPOSITIONS } from "./calls.js";

const CODES = {
  redeemed: "The code was accepted",
  used: "The code had already been used",
  invalid: "The code is not valid",
  unavailable: "The code could not be checked",
};

const ISSUED = {
  issued: (code) => `Handed out the code ${code}`,
  again: (code) => `Handed out the caller’s code again: ${code}`,
  exhausted: () => "No code left to hand out",
  unavailable: () => "No code could be handed out (the store could not be reached)",
};

const EFFECTS = {
  CastVote: "Counting the vote",
  RedeemCode: "Checking the code",
  IssueCode: "Handing out a code",
  CallWebhook: "Asking the business’s system",
  Notify: "Sending a notification",
  StartRecording: "Recording the caller’s message",
  Transfer: "Transferring the call",
  RouteRequest: "Asking the business’s system for the next step",
};

/** A timeline event in plain words. */
function describe({ kind, data }) {
  const d = data || {};
  const step = d.node ? ` (step “${d.node}”)` : "";
  switch (kind) {
    case "answered": return "The call was answered";
    case "node": return `Went to step “${d.node}”`;
    case "prompt": return `Said: “${d.text}”`;
    case "listen": return `Waited for the caller’s answer${d.timeout ? ` (up to ${d.timeout} s)` : ""}`;
    case "dtmf": return `The caller pressed ${d.digit}`;
    case "input": return d.digits !== undefined ? `The caller’s answer: ${d.digits}`
      : `The caller ${d.confidence !== undefined ? "said" : "sent"} “${d.text}”`;
    case "match": return `Understood as “${d.value}”`;
    case "nomatch": return `Did not understand the answer${d.input ? ` “${d.input}”` : ""}`;
    case "noinput": return "No answer from the caller";
    case "max_retries": return "Too many tries; gave up asking";
    case "outcome": return `Counted ${d.outcome} ${d.name}: “${d.value}”`;
    case "branch": return `Chose the way to “${d.next}”`;
    case "effect": return `${EFFECTS[d.action] || d.action}${step}`;
    case "vote_result": return d.accepted ? "The vote was counted" : d.unavailable ? "The vote could not be counted"
      : `The caller had already voted${d.previous ? ` (for “${d.previous}”)` : ""}`;
    case "code_result": return CODES[d.status] || `Code: ${d.status}`;
    case "issue_result": return (ISSUED[d.status] || (() => `Code: ${d.status}`))(d.code);
    case "closed": return d.reason === "paused" ? "The campaign is paused: the closed text was given"
      : d.reason === "ended" ? "The campaign has ended: the closed text was given" : "Outside the campaign’s hours";
    case "webhook_result": return d.ok ? "The business’s system answered"
      : `The call to the business’s system failed${d.error ? ` (${d.error})` : d.status ? ` (status ${d.status})` : ""}`;
    case "notify_result": return d.ok ? "The notification was sent" : "The notification could not be sent";
    case "record_result": return d.recording_id ? `Recorded a voice message (${seconds(d.duration)})`
      : "No voice message was recorded";
    case "transfer": return `Transferred to ${d.target}${d.accepted === false ? " (refused)" : ""}`;
    case "hangup": return `The caller hung up${step}`;
    case "end": return `The campaign ended${d.reason ? ` (${d.reason})` : ""}`;
    default: {
      const details = Object.entries(d).filter(([k]) => k !== "node").map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
      return `${kind.replace(/_/g, " ")}${step}${details.length ? ` — ${details.join(", ")}` : ""}`;
    }
  }
}

const MESSAGE_STATES = {
  queued: "Waiting to be sent", accepted: "Sent (no receipt yet)", delivered: "Delivered",
  undeliverable: "Not delivered", expired: "Expired undelivered", rejected: "Refused", failed: "Could not be sent",
  blocked: "Not sent: the recipient opted out", returned: "Given back to the SMS gateway",
};

export async function callView(root, { id }, { signal }) {
  const call = await getJson(`/api/calls/${encodeURIComponent(id)}`, { signal });
  const start = Date.parse(call.started_at);
  const ended = call.disposition ? DISPOSITIONS[call.disposition] || call.disposition : "Still in progress";
  const facts = [
    ["Caller", call.caller], ["Short number", call.number],
    ["Campaign", call.campaign_id ? link(`campaigns/${encodeURIComponent(call.campaign_id)}`, call.campaign_id,
      { "aria-label": `Results of ${call.campaign_id}` }) : "—"],
    ["Version", call.version ?? "—"], ["Channel", call.channel === "sms" ? "SMS" : "Phone call"],
    ["Started", when(call.started_at)], ["Answered", when(call.answered_at)], ["Ended", when(call.ended_at)],
    ["Duration", seconds(call.duration)], ["How it ended", `${ended}${call.cause ? ` (${call.cause})` : ""}`],
    ["Last step", call.last_node || "—"],
  ];
  const recordings = h("ul", { class: "recordings" });
  root.append(
    h("p", {}, link("calls", "← Call log")),
    h("h1", {}, `${call.channel === "sms" ? "SMS session" : "Call"} from ${call.caller} to ${call.number}`),
    h("dl", { class: "facts card" }, facts.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))),
    h("section", {}, h("h2", {}, "What the caller chose"),
      call.outcomes.length ? h("ul", {}, call.outcomes.map((o) => h("li", {}, `${o.kind[0].toUpperCase()}${o.kind.slice(1)} ${o.name}: `,
        h("strong", {}, o.value)))) : h("p", { class: "empty" }, "Nothing was counted on this call.")),
    h("section", {}, h("h2", {}, "Timeline"),
      call.events.length ? h("ol", { class: "timeline" }, call.events.map((e) => h("li", {},
        h("span", { class: "offset" }, `+${((Date.parse(e.at) - start) / 1000).toFixed(1)} s`), " ",
        h("span", { class: "event" }, describe(e))))) : h("p", { class: "empty" }, "No steps were recorded.")),
    h("section", { hidden: !call.recordings.length }, h("h2", {}, "Voice messages"), recordings),
    h("section", { hidden: !(call.messages || []).length }, h("h2", {}, "Text messages sent"),
      h("table", { class: "messages" },
        h("thead", {}, h("tr", {}, ["To", "Text", "Parts", "State", "Sent"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, (call.messages || []).map((m) => h("tr", {},
          h("td", {}, m.recipient), h("td", {}, m.text), h("td", {}, String(m.parts)),
          h("td", {}, `${MESSAGE_STATES[m.state] || m.state}${m.error ? ` (${m.error})` : ""}`),
          h("td", {}, when(m.created_at))))))));

  call.recordings.forEach(async (r, i) => {
    const label = `Voice message ${i + 1}${r.duration ? ` (${seconds(r.duration)})` : ""}`;
    const item = h("li", {}, h("span", {}, label));
    recordings.append(item);
    try {
      const url = await blobUrl(r.url, { signal });
      signal.addEventListener("abort", () => URL.revokeObjectURL(url));
      item.append(h("audio", { controls: true, src: url, "aria-label": label }), " ",
        h("a", { href: url, download: r.id }, "Download"));
    } catch (error) {
      showFailure(error, item);
    }
  });
}
