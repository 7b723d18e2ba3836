// Upload a campaign file (picked or pasted): checked first; problems are listed and shown under their
// line; a good file is stored as the campaign's next version and, if asked, put in service at once.

import { send } from "../api.js";
import { announce, fill, h, link, notice } from "../dom.js";
import { t } from "../i18n.js";
import { showFailure } from "../page.js";
import { issueList, sourceView } from "../source.js";
import { tenantPicker } from "../tenant.js";
import { FlowDiagram } from "../diagram.js";

const MAX_BYTES = 1024 * 1024;

export async function uploadView(root, { query }, { me, signal }) {
  const tenant = await tenantPicker(me, signal);
  const preset = query.get("campaign") || "";
  const picker = h("input", { id: "file", type: "file", accept: ".yaml,.yml,.json,.txt,text/yaml,application/json" });
  const text = h("textarea", { id: "text", rows: "16", spellcheck: "false", autocomplete: "off",
    "aria-describedby": "text-help" });
  const feedback = h("div", { class: "feedback" });
  const report = h("div", { class: "report" });
  const buttons = [
    h("button", { type: "submit", value: "activate" }, t("upload.activate")),
    h("button", { type: "submit", value: "store", class: "secondary" }, t("upload.store")),
    h("button", { type: "submit", value: "check", class: "secondary" }, t("upload.check")),
  ];
  const form = h("form", { class: "card", novalidate: true },
    tenant.element,
    h("label", { for: "file" }, t("upload.file")), picker,
    h("label", { for: "text" }, t("upload.paste")), text,
    h("p", { id: "text-help", class: "help" }, t("upload.help")),
    h("div", { class: "buttons" }, buttons));
  root.append(h("h1", {}, preset ? t("upload.titleVersion", { id: preset }) : t("upload.title")),
    h("p", {}, preset ? link(`campaigns/${encodeURIComponent(preset)}/versions`, t("upload.versionsOf", { id: preset }))
      : t("upload.intro")),
    form, feedback, report);

  picker.addEventListener("change", async () => {
    const file = picker.files[0];
    fill(feedback);
    fill(report);
    if (!file) return;
    if (file.size > MAX_BYTES) {
      fill(feedback, notice("error", t("upload.tooLarge")));
      return;
    }
    text.value = await file.text();
    fill(feedback, notice("info", t("upload.loaded", { name: file.name })));
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const mode = event.submitter?.value || "check";
    fill(feedback);
    fill(report);
    const source = text.value;
    if (!source.trim()) {
      fill(feedback, notice("error", t("upload.nothing")));
      return;
    }
    const type = source.trimStart().startsWith("{") ? "application/json" : "application/yaml";
    buttons.forEach((b) => { b.disabled = true; });
    fill(feedback, notice("info", mode === "check" ? t("upload.checking") : t("upload.uploading")));
    try {
      const { campaign_id: fileId } = await send("POST", `/api/dialplans/validate${tenant.query()}`,
        { text: source, type, signal });
      if (mode === "check") {
        fill(feedback, notice("ok", t("upload.good", { id: fileId })));
        return;
      }
      const id = preset || fileId;
      const done = await send("POST", `/api/campaigns/${encodeURIComponent(id)}/versions`
        + (mode === "activate" ? `?activate=1${tenant.query("&")}` : tenant.query()), { text: source, type, signal });
      const where = encodeURIComponent(done.campaign_id);
      const which = { version: done.version, id: done.campaign_id };
      fill(feedback, notice("ok", `${done.active ? t("upload.active", which) : t("upload.stored", which)} `,
        link(`campaigns/${where}/versions`, t("upload.seeVersions")), " · ",
        link(`campaigns/${where}`, t("upload.seeResults"))));
      announce(done.active ? t("upload.activeShort", which) : t("upload.storedShort", which));
    } catch (error) {
      fill(feedback);
      if (error.status === 422 && error.issues.length) {
        const graph = error.body.diagram;
        fill(report, notice("error", t("upload.notStored")),
          issueList(error.issues, "src"),
          graph && graph.nodes.length ? h("section", { class: "card", "aria-labelledby": "upload-diagram" },
            h("h2", { id: "upload-diagram" }, t("upload.diagram")), h("p", { class: "help" }, t("upload.diagramHelp")),
            new FlowDiagram(graph, graph.start || "").element) : null,
          sourceView(source, error.issues, "src", t("upload.yourFile")));
        report.querySelector("h2").setAttribute("tabindex", "-1");
        report.querySelector("h2").focus();
      } else {
        showFailure(error, feedback);
      }
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
}
