// Calls in progress on this node, refreshed every few seconds while the page is open.

import { getJson } from "../api.js";
import { fill, h, link, plural, seconds, table } from "../dom.js";
import { showFailure } from "../page.js";

const REFRESH_SECONDS = 2;

export async function activeView(root, params, { signal }) {
  const count = h("p", { role: "status" });
  const list = h("div");
  const feedback = h("div");
  root.append(h("h1", {}, "Calls now"),
    h("p", { class: "help" }, `Calls in progress on this server, refreshed every ${REFRESH_SECONDS} seconds.`),
    count, feedback, list);

  const names = new Map((await getJson("/api/campaigns", { signal })).map((c) => [c.id, c.name]));

  async function draw() {
    const calls = await getJson("/api/calls/active", { signal });
    count.textContent = calls.length ? `${plural(calls.length, "call")} in progress` : "";
    fill(list, table("Calls in progress", [
      { label: "Caller", cell: (c) => c.caller },
      { label: "Number", cell: (c) => c.number },
      { label: "Campaign", cell: (c) => link(`campaigns/${encodeURIComponent(c.campaign_id)}`,
        names.get(c.campaign_id) || c.campaign_id) },
      { label: "Version", cell: (c) => c.version },
      { label: "On the line for", cell: (c) => seconds(c.seconds) },
      { label: "State", cell: (c) => (c.answered ? "Answered" : "Ringing") },
      { label: "Current step", cell: (c) => c.node || "—" },
    ], calls, "No calls in progress right now."));
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
