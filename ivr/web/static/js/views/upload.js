// Upload a campaign file (picked or pasted): checked first; problems are listed and shown under their
// line; a good file is stored as the campaign's next version and, if asked, put in service at once.

import { send } from "../api.js";
import { announce, fill, h, link, notice } from "../dom.js";
import { showFailure } from "../page.js";
import { issueList, sourceView } from "../source.js";
import { tenantPicker } from "../tenant.js";
import { FlowDiagram } from "../diagram.js";

// Words of the diagram part of this page (one place, for translation).
const T = {
  diagram: "The file as a diagram",
  diagramHelp: "Steps with a problem are outlined in red; hover over one to read its problems.",
};

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
    h("button", { type: "submit", value: "activate" }, "Upload and put in service"),
    h("button", { type: "submit", value: "store", class: "secondary" }, "Upload without putting in service"),
    h("button", { type: "submit", value: "check", class: "secondary" }, "Only check the file"),
  ];
  const form = h("form", { class: "card", novalidate: true },
    tenant.element,
    h("label", { for: "file" }, "Campaign file (YAML or JSON)"), picker,
    h("label", { for: "text" }, "Or paste the file’s text"), text,
    h("p", { id: "text-help", class: "help" }, "The file is checked before anything is stored: if it has problems, "
      + "nothing changes and each problem is shown next to its line. You can correct the text here and try again."),
    h("div", { class: "buttons" }, buttons));
  root.append(h("h1", {}, preset ? `Upload a new version of ${preset}` : "Upload a campaign file"),
    h("p", {}, preset ? link(`campaigns/${encodeURIComponent(preset)}/versions`, `Versions of ${preset}`)
      : "A file whose id is new creates a campaign; a file of an existing campaign becomes its next version."),
    form, feedback, report);

  picker.addEventListener("change", async () => {
    const file = picker.files[0];
    fill(feedback);
    fill(report);
    if (!file) return;
    if (file.size > MAX_BYTES) {
      fill(feedback, notice("error", "That file is larger than 1 MiB; a campaign file is much smaller."));
      return;
    }
    text.value = await file.text();
    fill(feedback, notice("info", `Loaded ${file.name}. Choose what to do with it below.`));
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const mode = event.submitter?.value || "check";
    fill(feedback);
    fill(report);
    const source = text.value;
    if (!source.trim()) {
      fill(feedback, notice("error", "Choose a campaign file or paste its text first."));
      return;
    }
    const type = source.trimStart().startsWith("{") ? "application/json" : "application/yaml";
    buttons.forEach((b) => { b.disabled = true; });
    fill(feedback, notice("info", mode === "check" ? "Checking…" : "Checking and uploading…"));
    try {
      const { campaign_id: fileId } = await send("POST", `/api/dialplans/validate${tenant.query()}`,
        { text: source, type, signal });
      if (mode === "check") {
        fill(feedback, notice("ok", `The file has no problems. It is the campaign “${fileId}”.`));
        return;
      }
      const id = preset || fileId;
      const done = await send("POST", `/api/campaigns/${encodeURIComponent(id)}/versions`
        + (mode === "activate" ? `?activate=1${tenant.query("&")}` : tenant.query()), { text: source, type, signal });
      const where = encodeURIComponent(done.campaign_id);
      fill(feedback, notice("ok", done.active
        ? `Version ${done.version} of ${done.campaign_id} is now in service. New calls get this version. `
        : `Stored as version ${done.version} of ${done.campaign_id}; it is not in service yet. `,
      link(`campaigns/${where}/versions`, "See the versions"), " · ", link(`campaigns/${where}`, "See the results")));
      announce(done.active ? `Version ${done.version} is now in service.` : `Stored as version ${done.version}.`);
    } catch (error) {
      fill(feedback);
      if (error.status === 422 && error.issues.length) {
        const graph = error.body.diagram;
        fill(report, notice("error", "The file was not stored: correct the problems below and try again."),
          issueList(error.issues, "src"),
          graph && graph.nodes.length ? h("section", { class: "card", "aria-labelledby": "upload-diagram" },
            h("h2", { id: "upload-diagram" }, T.diagram), h("p", { class: "help" }, T.diagramHelp),
            new FlowDiagram(graph, graph.start || "").element) : null,
          sourceView(source, error.issues, "src", "Your campaign file"));
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
