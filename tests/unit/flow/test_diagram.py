"""The diagram of a campaign: nodes with type and first-language text, exits merged per target with what
selects them, problems on their nodes, unknown targets as missing nodes, and the busiest path."""

from __future__ import annotations

from pathlib import Path

from ivr.flow.diagram import busiest_path, diagram, node_of_issue
from ivr.flow.loader import read_document

ROOT = Path(__file__).resolve().parents[3]


def test_the_demo_survey_as_a_diagram() -> None:
    graph = diagram(read_document((ROOT / "dialplans" / "survey.yaml").read_text()))
    nodes = {n.id: n for n in graph.nodes}
    assert graph.start == "intro" and graph.language == "en"
    assert list(nodes) == ["intro", "q1", "a1", "q2", "a2", "q3", "a3", "thanks", "bye"]
    assert (nodes["q1"].type, nodes["q1"].text) == ("ask", "On a scale of 1 to 5, how satisfied are you with our service?")
    assert nodes["a1"].detail == "satisfaction = {{satisfaction}}" and nodes["bye"].detail == "incomplete"
    edges = {e.id: e for e in graph.edges}
    # the five keys of q1 lead to a1: one arrow carrying the five exits, with their keys and words
    assert [(x.kind, x.key, x.words) for x in edges["q1>a1"].exits] == [
        ("choice", str(k), (w,)) for k, w in enumerate(["one", "two", "three", "four", "five"], 1)]
    assert [x.field for x in edges["q1>bye"].exits] == ["max_retries"]
    assert [x.field for x in edges["q3>a3"].exits] == ["choices[0].next", "choices[1].next"]
    assert len(graph.edges) == 10


def test_problems_mark_their_nodes_and_unknown_targets_are_missing_nodes() -> None:
    document = read_document("id: x\nlanguages: [uk, en]\nstart: hello\nnodes:\n"
                             "  hello: {type: say, text: {uk: Привіт, en: Hello}, next: nowhere}\n"
                             "  route: {type: branch, cases: [{if: {var: channel, equals: sms}, next: hello}], "
                             "default: hello}\n")
    graph = diagram(document, [("nodes.hello.next", 'unknown node "nowhere"'), ("nodes.route", "unreachable node"),
                               ("name", "required")])
    nodes = {n.id: n for n in graph.nodes}
    assert nodes["hello"].text == "Привіт" and nodes["hello"].issues == ('nodes.hello.next: unknown node "nowhere"',)
    assert nodes["route"].issues == ("nodes.route: unreachable node",)
    assert (nodes["nowhere"].type, nodes["nowhere"].issues) == ("missing", ())
    [case, default] = {e.id: e for e in graph.edges}["route>hello"].exits
    assert (case.kind, case.condition, default.kind) == ("case", {"var": "channel", "equals": "sms"}, "default")
    assert node_of_issue("start", "hello") == "hello" and node_of_issue("numbers.voice[0]") is None
    assert diagram(None).nodes == () and diagram(["not", "a", "mapping"]).edges == ()


def test_busiest_path_follows_the_exit_most_sessions_took() -> None:
    graph = diagram(read_document((ROOT / "dialplans" / "vote.yaml").read_text()))
    moved = {"welcome>choose": 9, "choose>cast": 7, "choose>goodbye": 2, "cast>thanks": 4, "cast>already": 3}
    assert busiest_path(graph, moved) == ["welcome>choose", "choose>cast", "cast>thanks"]
    assert busiest_path(graph, {}) == []
    assert busiest_path(graph, {"welcome>choose": 1, "choose>welcome": 5}) == ["welcome>choose"]   # no loop
