// A campaign's flow drawn as a diagram: boxes for nodes (type and text), arrows for exits (labelled with
// their keys, words or conditions), laid out by dagre (vendored in /ui/vendor/, nothing loaded from
// elsewhere). Counts of sessions are written on the boxes and arrows, the busiest path is drawn in its own
// colour, nodes with problems are marked, and a path can be lit step by step (the simulator).

import dagre from "../vendor/dagre.esm.js";
import { h } from "./dom.js";
import { t, tn } from "./i18n.js";

// Catalogue keys of what the drawing shows: node types, what an exit is called by its kind, and the "next"
// exit's name, which depends on the node it leaves
const TYPES = { say: "diagram.type.say", ask: "diagram.type.ask", record_result: "diagram.type.record_result",
  vote: "diagram.type.vote", code: "diagram.type.code", webhook: "diagram.type.webhook", notify: "diagram.type.notify",
  branch: "diagram.type.branch", record: "diagram.type.record", transfer: "diagram.type.transfer",
  end: "diagram.type.end", missing: "diagram.type.missing", unknown: "diagram.type.unknown", issue: "diagram.type.issue" };
const EXITS = { noinput: "diagram.exit.noinput", nomatch: "diagram.exit.nomatch", max_retries: "diagram.exit.max_retries",
  repeat: "diagram.exit.repeat", used: "diagram.exit.used", invalid: "diagram.exit.invalid",
  unavailable: "diagram.exit.unavailable", failure: "diagram.exit.failure", default: "diagram.exit.default",
  exhausted: "diagram.exit.exhausted" };
const NEXT = { ask: "diagram.next.ask", vote: "diagram.next.vote", code: "diagram.next.code", webhook: "diagram.next.webhook",
  notify: "diagram.next.notify", record: "diagram.next.record", transfer: "diagram.next.transfer",
  issue: "diagram.next.issue" };
const OPERATORS = { equals: "=", not_equals: "≠", in: "∈", gt: ">", lt: "<", matches: "~", exists: "∃" };

function typeName(type) {
  return TYPES[type] ? t(TYPES[type]) : type;
}

function arrow(from, to, label) {
  return `${from} → ${to}${label ? ` (${label})` : ""}`;
}

const BOX_WIDTH = 210;
const LINE = 15;                   // px per line of text in a box
const TEXT_CHARS = 30;             // characters per line of a box's text
const TEXT_LINES = 3;

/** Cut `text` into at most `lines` lines of about `width` characters, ending in … when cut. */
export function wrap(text, width = TEXT_CHARS, lines = TEXT_LINES) {
  const words = String(text || "").replace(/\s+/g, " ").trim().split(" ").filter(Boolean);
  const out = [];
  let line = "";
  for (const word of words) {
    const piece = word.length > width ? `${word.slice(0, width - 1)}…` : word;
    if (line && (line + " " + piece).length > width) {
      out.push(line);
      line = piece;
      if (out.length === lines) break;
    } else {
      line = line ? `${line} ${piece}` : piece;
    }
  }
  if (out.length < lines && line) out.push(line);
  else if (out.length === lines) out[lines - 1] = `${out[lines - 1].replace(/…$/, "").slice(0, width - 1)}…`;
  return out;
}

/** The words on an arrow: its exits' keys, words or conditions, or what the exit is called. */
export function edgeLabel(edge, sourceType) {
  const keys = [];
  const others = [];
  for (const exit of edge.exits) {
    if (exit.kind === "choice") keys.push(exit.key ?? exit.words[0] ?? "?");
    else if (exit.kind === "case") {
      const c = exit.condition || {};
      const op = Object.keys(OPERATORS).find((name) => name in c);
      others.push(op ? `${c.var} ${OPERATORS[op]} ${Array.isArray(c[op]) ? c[op].join("|") : c[op]}` : "?");
    } else if (exit.kind === "next") {
      if (NEXT[sourceType]) others.push(t(NEXT[sourceType]));
    } else others.push(EXITS[exit.kind] ? t(EXITS[exit.kind]) : exit.kind);
  }
  const words = [];
  if (keys.length) words.push(keys.join(" "));
  return [...words, ...others].join(" · ");
}

export class FlowDiagram {
  /** `graph`: GET .../diagram's nodes and edges; `name`: the campaign's name for the picture's label. */
  constructor(graph, name) {
    this.graph = graph;
    this.types = new Map(graph.nodes.map((n) => [n.id, n.type]));
    this.nodes = new Map();
    this.edges = new Map();
    this.svg = h("svg:svg", { class: "flow", role: "img", "aria-label": t("diagram.label", { campaign: name }) });
    this.rows = h("tbody");
    this.element = h("figure", { class: "diagram" },
      h("div", { class: "diagram-scroll", tabindex: "0" }, this.svg),
      h("details", { class: "diagram-table" }, h("summary", {}, t("diagram.showTable")),
        h("table", {}, h("caption", { class: "visually-hidden" }, t("diagram.tableCaption")),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("diagram.tableStep")),
            h("th", { scope: "col" }, t("diagram.tableSessions")), h("th", { scope: "col" }, t("diagram.tableLeft")))),
          this.rows)));
    this.draw();
  }

  draw() {
    const layout = new dagre.graphlib.Graph({ multigraph: false });
    layout.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 46, edgesep: 14, marginx: 12, marginy: 12 });
    layout.setDefaultEdgeLabel(() => ({}));
    const boxes = new Map();
    for (const node of this.graph.nodes) {
      const lines = wrap(node.text || node.detail || "");
      const height = 30 + LINE * Math.max(1, lines.length) + 20;
      boxes.set(node.id, lines);
      layout.setNode(node.id, { width: BOX_WIDTH, height });
    }
    for (const edge of this.graph.edges) {
      const label = edgeLabel(edge, this.types.get(edge.source));
      layout.setEdge(edge.source, edge.target, { label, width: Math.min(200, 30 + 6.5 * label.length),
        height: 18, labelpos: "r", labeloffset: 8 });
    }
    dagre.layout(layout);
    const { width, height } = layout.graph();
    this.svg.setAttribute("viewBox", `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`);
    this.svg.setAttribute("width", String(Math.ceil(width)));       // never shrunk: the frame scrolls instead
    this.svg.setAttribute("height", String(Math.ceil(height)));
    const defs = h("svg:defs", {},
      ["plain", "busy", "lit"].map((kind) => h("svg:marker", { id: `arrow-${kind}`, viewBox: "0 0 10 10", refX: "9",
        refY: "5", markerWidth: "11", markerHeight: "11", markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
      h("svg:path", { d: "M0,0 L10,5 L0,10 z", class: `arrowhead ${kind}` }))));
    const edgeLayer = h("svg:g", { class: "edges" });
    const nodeLayer = h("svg:g", { class: "nodes" });
    for (const edge of this.graph.edges) {
      const info = layout.edge(edge.source, edge.target);
      const line = h("svg:path", { d: curve(info.points), class: "edge-line", "marker-end": "url(#arrow-plain)" });
      const count = h("svg:tspan", { class: "edge-count", dx: info.label ? "5" : "0" });
      const group = h("svg:g", { class: "edge", "data-edge": edge.id },
        h("svg:title", {}, arrow(edge.source, edge.target, info.label)), line,
        h("svg:text", { class: "edge-label", x: String(info.x - info.width / 2 + 4), y: String(info.y + 4) },
          info.label || "", count));
      edgeLayer.append(group);
      this.edges.set(edge.id, { group, line, count });
    }
    for (const node of this.graph.nodes) {
      const box = layout.node(node.id);
      const left = box.x - box.width / 2;
      const top = box.y - box.height / 2;
      const lines = boxes.get(node.id);
      const count = h("svg:text", { class: "node-count", x: String(left + box.width - 8), y: String(top + 16),
        "text-anchor": "end" });
      const left_ = h("svg:text", { class: "node-left", x: String(left + 8), y: String(top + box.height - 7) });
      const problems = node.issues.length ? ` — ${tn("diagram.problems", node.issues.length)}: ${node.issues.join("; ")}`
        : "";
      const group = h("svg:g", { class: `node type-${node.type}${node.issues.length ? " bad" : ""}`
        + `${node.id === this.graph.start ? " start" : ""}`, "data-node": node.id },
      h("svg:title", {}, `${node.id} (${typeName(node.type)}): ${node.text || node.detail}${problems}`),
      h("svg:rect", { x: String(left), y: String(top), width: String(box.width), height: String(box.height),
        rx: node.type === "end" ? "18" : "6" }),
      h("svg:text", { class: "node-type", x: String(left + 8), y: String(top + 16) },
        `${typeName(node.type)} · ${node.id}`),
      lines.map((text, i) => h("svg:text", { class: "node-text", x: String(left + 8),
        y: String(top + 34 + i * LINE) }, text)),
      count, left_);
      nodeLayer.append(group);
      this.nodes.set(node.id, { group, count, left: left_ });
    }
    this.svg.replaceChildren(defs, edgeLayer, nodeLayer);
  }

  /** Counts from GET .../flow (or its live stream): sessions per node and arrow, where they left, the busiest path. */
  update(flow) {
    const busy = new Set(flow.busiest || []);
    const busyNodes = new Set([...busy].flatMap((id) => id.split(">")));
    for (const [id, node] of this.nodes) {
      const n = flow.nodes[id] || 0;
      node.count.textContent = n ? String(n) : "";
      const left = flow.left[id] || 0;
      node.left.textContent = left ? tn("diagram.left", left) : "";
      node.group.classList.toggle("busy", busyNodes.has(id));
      node.group.classList.toggle("reached", n > 0);
    }
    for (const [id, edge] of this.edges) {
      const n = flow.edges[id] || 0;
      edge.count.textContent = n ? String(n) : "";
      edge.group.classList.toggle("busy", busy.has(id));
      edge.line.setAttribute("marker-end", `url(#arrow-${busy.has(id) ? "busy" : "plain"})`);
    }
    this.rows.replaceChildren(...this.graph.nodes.map((node) => h("tr", { "data-node": node.id },
      h("th", { scope: "row" }, node.id), h("td", {}, String(flow.nodes[node.id] || 0)),
      h("td", {}, String(flow.left[node.id] || 0)))),
    ...this.graph.edges.map((edge) => h("tr", { "data-edge": edge.id },
      h("th", { scope: "row" }, arrow(edge.source, edge.target, edgeLabel(edge, this.types.get(edge.source)))),
      h("td", {}, String(flow.edges[edge.id] || 0)), h("td", {}, ""))));
  }

  /** Light the nodes of `path` one after the other (`delay` ms apart) and the arrows between them. */
  async light(path, delay = 350, signal) {
    for (const item of [...this.nodes.values(), ...this.edges.values()]) item.group.classList.remove("lit");
    for (const [i, id] of path.entries()) {
      if (signal?.aborted) return;
      if (i > 0) {
        const edge = this.edges.get(`${path[i - 1]}>${id}`);
        if (edge) {
          edge.group.classList.add("lit");
          edge.line.setAttribute("marker-end", "url(#arrow-lit)");
        }
      }
      this.nodes.get(id)?.group.classList.add("lit");
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** An SVG path through dagre's points, smoothed with quadratic curves. */
function curve(points) {
  let d = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length - 1; i += 1) {
    const mid = { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
    d += ` Q${points[i].x},${points[i].y} ${mid.x},${mid.y}`;
  }
  const last = points[points.length - 1];
  return `${d} L${last.x},${last.y}`;
}
