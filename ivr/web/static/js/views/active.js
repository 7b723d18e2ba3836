// Calls in progress on this node, refreshed every few seconds while the page is open.

import { getJson } from "../api.js";
import { fill, h, link, seconds, table } from "../dom.js";
import { t, tn } from "../i18n.js";
import { showFailure } from "../page.js";

const REFRESH_SECONDS = 2;

export async function activeView(root, params, { signal }) {
  const count = h("p", { role: "status" });
  const list = h("div");
  const feedback = h("div");
  root.append(h("h1", {}, t("active.title")),
    h("p", { class: "help" }, tn("active.help", REFRESH_SECONDS)),
    count, feedback, list);

  const names = new Map((await getJson("/api/campaigns", { signal })).map((c) => [c.id, c.name]));

  async function draw() {
    const calls = await getJson("/api/calls/active", { signal });
    count.textContent = calls.length ? tn("active.count", calls.length) : "";
    fill(list, table(t("active.caption"), [
      { label: t("active.caller"), cell: (c) => c.caller },
      { label: t("active.number"), cell: (c) => c.number },
      { label: t("active.campaign"), cell: (c) => link(`campaigns/${encodeURIComponent(c.campaign_id)}`,
        names.get(c.campaign_id) || c.campaign_id) },
      { label: t("active.version"), cell: (c) => c.version },
      { label: t("active.duration"), cell: (c) => seconds(c.seconds) },
      { label: t("active.state"), cell: (c) => (c.answered ? t("active.answered") : t("active.ringing")) },
      { label: t("active.step"), cell: (c) => c.node || "—" },
    ], calls, t("active.none")));
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
