"""A campaign's flow as a graph to draw: nodes with their type and text, exits as labelled edges.

`diagram(document)` reads a campaign document (the mapping a campaign file holds), valid or not, so an
upload's problems can be shown on the drawing: a node a problem's path names is marked, and an exit
naming a node that does not exist leads to a `missing` node. Exits of one node that lead to the same
node are one edge carrying each exit (an ask whose five keys all go on to one node is one arrow
"1 2 3 4 5"), so the drawing stays readable and each arrow's count is the sessions that moved along it.

Labels are data, not sentences: each exit says its field (`noinput`, `choices[2].next`, ...) and, for
choices and cases, what selects it (key, words, condition), so the web UI words them in its own
language. `busiest_path` follows, from the start, the exit most sessions took.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .model import EXIT_FIELDS, localized
from .validate import parse_path

# The field that holds what a node of each type says or does, shown in its box.
SHOWN_FIELD = {"say": "text", "ask": "prompt", "end": "text", "record": "prompt", "transfer": "prompt",
               "notify": "text"}
MAX_TEXT = 300          # characters of a node's text sent to the drawing (it shortens further)


@dataclass(frozen=True)
class Exit:
    """One exit of a node: its field path, and what selects it (a choice's key and words, a case's condition)."""

    field: str
    kind: str                               # next, noinput, ..., choice, case
    key: str | None = None
    words: tuple[str, ...] = ()
    condition: dict[str, Any] | None = None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    exits: tuple[Exit, ...]

    @property
    def id(self) -> str:
        return f"{self.source}>{self.target}"


@dataclass(frozen=True)
class Node:
    id: str
    type: str                               # a node type, or "missing" for an exit's unknown target
    text: str                               # in the campaign's first language, at most MAX_TEXT characters
    detail: str                             # what else identifies it: a vote's name, a webhook's URL, ...
    issues: tuple[str, ...] = ()            # problems found in it (an upload's validation)


@dataclass(frozen=True)
class Diagram:
    start: str | None
    language: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    routed: bool = False                    # routing mode: the business's server names each next node

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for edge, raw in zip(self.edges, out["edges"]):
            raw["id"] = edge.id
        return out


def diagram(document: Any, issues: list[tuple[str, str]] = ()) -> Diagram:
    """The graph of a campaign document; `issues` ((path, message), from validation) mark their nodes."""
    data = document if isinstance(document, dict) else {}
    nodes = data.get("nodes") if isinstance(data.get("nodes"), dict) else {}
    languages = data.get("languages") if isinstance(data.get("languages"), list) and data["languages"] else ["en"]
    language = str(languages[0])
    marks: dict[str, list[str]] = {}
    for path, message in issues:
        node_id = node_of_issue(path, data.get("start"))
        if node_id is not None:
            marks.setdefault(node_id, []).append(f"{path}: {message}" if path else message)
    out_nodes = [_node(str(node_id), node, language, tuple(marks.get(str(node_id), ())))
                 for node_id, node in nodes.items()]
    known = {n.id for n in out_nodes}
    edges: dict[tuple[str, str], list[Exit]] = {}
    for node_id, node in nodes.items():
        for target, exit_ in _exits(node):
            edges.setdefault((str(node_id), target), []).append(exit_)
    start = data.get("start") if isinstance(data.get("start"), str) else None
    missing = sorted({target for _, target in edges if target not in known} | (
        {start} if start and start not in known and nodes else set()))
    out_nodes += [Node(target, "missing", "", "", tuple(marks.get(target, ()))) for target in missing]
    return Diagram(start, language, tuple(out_nodes),
                   tuple(Edge(source, target, tuple(exits)) for (source, target), exits in edges.items()),
                   routed=data.get("routing") is not None and not nodes)


def node_of_issue(path: str, start: Any = None) -> str | None:
    """The node a validation issue's path is in (`nodes.q1.choices[0].next` → q1; `start` → the start node)."""
    parts = parse_path(path) if path else ()
    if len(parts) >= 2 and parts[0] == "nodes":
        return str(parts[1])
    if parts == ("start",) and isinstance(start, str):
        return start
    return None


def busiest_path(graph: Diagram, moved: dict[str, int]) -> list[str]:
    """The edge ids from the start along, at each node, the edge most sessions took (`moved`: sessions per
    edge id); it stops where no session went on or a node would repeat. Ties go to the exit listed first."""
    outgoing: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        outgoing.setdefault(edge.source, []).append(edge)
    path: list[str] = []
    seen = {graph.start}
    node = graph.start
    while node is not None:
        best = max(outgoing.get(node, []), key=lambda e: moved.get(e.id, 0), default=None)
        if best is None or moved.get(best.id, 0) <= 0 or best.target in seen:
            break
        path.append(best.id)
        seen.add(best.target)
        node = best.target
    return path


def _node(node_id: str, node: Any, language: str, issues: tuple[str, ...]) -> Node:
    if not isinstance(node, dict):
        return Node(node_id, "unknown", "", "", issues)
    kind = str(node.get("type", "unknown"))
    shown = node.get(SHOWN_FIELD.get(kind, ""))
    text = localized(shown, language, language) if shown is not None else None
    if text is None and isinstance(shown, dict) and shown:
        text = next((v for v in shown.values() if isinstance(v, str)), None)     # first language missing
    return Node(node_id, kind, (text or "")[:MAX_TEXT], _detail(kind, node)[:MAX_TEXT], issues)


def _detail(kind: str, node: dict[str, Any]) -> str:
    """A short identifying line: what is counted, called or stored."""
    if kind in ("vote", "record_result"):
        return f"{node.get('name', '')} = {node.get('value', '')}"
    if kind == "code":
        return str(node.get("pool", ""))
    if kind == "webhook":
        return f"{node.get('method', 'POST')} {node.get('url', '')}"
    if kind == "notify":
        return f"{node.get('method', '')} {node.get('target', '')}"
    if kind == "transfer":
        return str(node.get("target", ""))
    if kind == "record":
        return str(node.get("name", ""))
    if kind == "end":
        return str(node.get("reason", ""))
    return ""


def _exits(node: Any) -> list[tuple[str, Exit]]:
    """(target, exit) for every exit of a node, in the order the node lists them."""
    if not isinstance(node, dict):
        return []
    out: list[tuple[str, Exit]] = []
    for i, choice in enumerate(node.get("choices") or []):
        if isinstance(choice, dict) and isinstance(choice.get("next"), str):
            words = tuple(str(w) for w in choice.get("words") or [] if isinstance(w, (str, int)))
            key = str(choice["key"]) if "key" in choice else None
            out.append((choice["next"], Exit(f"choices[{i}].next", "choice", key, words)))
    for i, case in enumerate(node.get("cases") or []):
        if isinstance(case, dict) and isinstance(case.get("next"), str):
            condition = case.get("if") if isinstance(case.get("if"), dict) else None
            out.append((case["next"], Exit(f"cases[{i}].next", "case", condition=condition)))
    for name in EXIT_FIELDS:
        if isinstance(node.get(name), str):
            out.append((node[name], Exit(name, name)))
    return out
