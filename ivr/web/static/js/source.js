// A campaign file shown with line numbers; problems found in it are written right under their line.

import { h } from "./dom.js";
import { t, tn } from "./i18n.js";

/** One issue of the API's list ({path, message, line}) as a sentence. */
function issueText(issue) {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** The list of problems, each linking to its line in the source view below it. */
export function issueList(issues, idPrefix) {
  return h("div", {},
    h("h2", {}, tn("source.problems", issues.length)),
    h("ul", { class: "issues" }, issues.map((issue) => h("li", {},
      issue.line ? h("a", { href: `#${idPrefix}-${issue.line}`, onclick: (event) => {
        event.preventDefault();                    // the #address routes pages: scroll instead
        document.getElementById(`${idPrefix}-${issue.line}`)?.scrollIntoView({ block: "center" });
      } }, t("source.line", { n: issue.line })) : t("source.wholeFile"),
      " — ", h("span", { class: "issue-path" }, issue.path || t("source.file")), ": ", issue.message))));
}

/** The text with numbered lines; each issue with a line is shown under that line. */
export function sourceView(text, issues = [], idPrefix = "line", label = t("source.label")) {
  const byLine = new Map();
  for (const issue of issues) {
    if (issue.line) byLine.set(issue.line, [...(byLine.get(issue.line) || []), issue]);
  }
  const rows = [];
  text.replace(/\n$/, "").split("\n").forEach((line, i) => {
    const number = i + 1;
    const problems = byLine.get(number) || [];
    rows.push(h("tr", { id: `${idPrefix}-${number}`, class: problems.length ? "bad-line" : false },
      h("th", { scope: "row", class: "line-number" }, String(number)),
      h("td", {}, h("code", {}, line || " "))));
    for (const issue of problems) {
      rows.push(h("tr", { class: "line-issue", "data-line": String(number) },
        h("th", { scope: "row" }, h("span", { class: "visually-hidden" }, t("source.problemOnLine", { n: number }))),
        h("td", { role: "note" }, `⚠ ${issueText(issue)}`)));
    }
  });
  return h("div", { class: "source table-wrap", tabindex: "0", role: "region", "aria-label": label },
    h("table", {}, h("tbody", {}, rows)));
}
