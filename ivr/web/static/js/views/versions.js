// A campaign's versions: see each file, put one in service (newer or older: the way to roll back).

import { getJson, send } from "../api.js";
import { announce, fill, h, link, notice, table, when } from "../dom.js";
import { t } from "../i18n.js";
import { showFailure } from "../page.js";
import { sourceView } from "../source.js";

export async function versionsView(root, { id }, { signal }) {
  const path = `/api/campaigns/${encodeURIComponent(id)}`;
  root.append(h("h1", {}, t("versions.title", { id })),
    h("p", { class: "actions" }, link(`campaigns/${encodeURIComponent(id)}`, t("versions.results")),
      link(`upload?campaign=${encodeURIComponent(id)}`, t("versions.upload"))),
    h("p", { class: "help" }, t("versions.help")));
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  const viewer = h("div");
  root.append(feedback, list, viewer);

  async function show(version) {
    fill(viewer, h("p", {}, t("versions.loading")));
    try {
      const { source } = await getJson(`${path}/versions/${version}`, { signal });
      const title = t("versions.file", { version });
      fill(viewer, h("h2", {}, title), sourceView(source, [], "v", title));
      viewer.scrollIntoView();
    } catch (error) {
      fill(viewer);
      showFailure(error, viewer);
    }
  }

  async function activate(version, button) {
    button.disabled = true;
    fill(feedback, notice("info", t("versions.activating", { version })));
    try {
      await send("POST", `${path}/activate`, { json: { version }, signal });
      fill(feedback, notice("ok", t("versions.activated", { version })));
      announce(t("versions.activatedShort", { version }));
      await draw();
    } catch (error) {
      fill(feedback);
      showFailure(error, feedback);
      button.disabled = false;
    }
  }

  async function draw() {
    const versions = await getJson(`${path}/versions`, { signal });
    const active = versions.find((v) => v.active)?.version ?? 0;
    fill(list, table(t("versions.caption"), [
      { label: t("versions.version"), cell: (v) => t("versions.versionN", { version: v.version }) },
      { label: t("versions.uploaded"), cell: (v) => when(v.created_at) },
      { label: t("versions.status"), cell: (v) => (v.active ? h("strong", { class: "badge ok" }, t("versions.inService"))
        : t("versions.notInService")) },
      { label: t("versions.actions"), cell: (v) => h("span", { class: "actions" },
        h("button", { type: "button", class: "link", onclick: () => show(v.version),
          "aria-label": t("versions.viewOf", { version: v.version }) }, t("versions.view")),
        !v.active && h("button", { type: "button", onclick: (event) => activate(v.version, event.target),
          "aria-label": t(v.version < active ? "versions.rollBackTo" : "versions.putVersion", { version: v.version }) },
        t(v.version < active ? "versions.rollBack" : "versions.put"))) },
    ], [...versions].reverse(), t("versions.none")));
  }
  await draw();
}
