// A campaign's versions: see each file, put one in service (newer or older: the way to roll back).

import { getJson, send } from "../api.js";
import { announce, fill, h, link, notice, table, when } from "../dom.js";
import { showFailure } from "../page.js";
import { sourceView } from "../source.js";

export async function versionsView(root, { id }, { signal }) {
  const path = `/api/campaigns/${encodeURIComponent(id)}`;
  root.append(h("h1", {}, `Versions of ${id}`),
    h("p", { class: "actions" }, link(`campaigns/${encodeURIComponent(id)}`, "Results"),
      link(`upload?campaign=${encodeURIComponent(id)}`, "Upload a new version")),
    h("p", { class: "help" }, "Every uploaded file is kept as a version. New calls get the version in service; "
      + "calls already in progress finish on the version they started with."));
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  const viewer = h("div");
  root.append(feedback, list, viewer);

  async function show(version) {
    fill(viewer, h("p", {}, "Loading…"));
    try {
      const { source } = await getJson(`${path}/versions/${version}`, { signal });
      fill(viewer, h("h2", {}, `File of version ${version}`), sourceView(source, [], "v", `File of version ${version}`));
      viewer.scrollIntoView();
    } catch (error) {
      fill(viewer);
      showFailure(error, viewer);
    }
  }

  async function activate(version, button) {
    button.disabled = true;
    fill(feedback, notice("info", `Putting version ${version} in service…`));
    try {
      await send("POST", `${path}/activate`, { json: { version }, signal });
      fill(feedback, notice("ok", `Version ${version} is now in service. New calls get this version.`));
      announce(`Version ${version} is now in service.`);
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
    fill(list, table("Versions", [
      { label: "Version", cell: (v) => `Version ${v.version}` },
      { label: "Uploaded", cell: (v) => when(v.created_at) },
      { label: "Status", cell: (v) => (v.active ? h("strong", { class: "badge ok" }, "In service") : "Not in service") },
      { label: "Actions", cell: (v) => h("span", { class: "actions" },
        h("button", { type: "button", class: "link", onclick: () => show(v.version),
          "aria-label": `View the file of version ${v.version}` }, "View file"),
        !v.active && h("button", { type: "button", onclick: (event) => activate(v.version, event.target),
          "aria-label": `${v.version < active ? "Roll back to" : "Put in service:"} version ${v.version}` },
        v.version < active ? "Roll back to this version" : "Put in service")) },
    ], [...versions].reverse(), "This campaign has no versions."));
  }
  await draw();
}
