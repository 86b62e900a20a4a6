"""The tool graph (who can feed whom) and grounded chain sampling."""

from __future__ import annotations

from pathlib import Path

import pytest

from funcdex_assets.catalog.fields import tool_entity
from funcdex_assets.catalog.loader import load_catalog
from funcdex_assets.catalog.models import Tool
from funcdex_assets.hashing import content_id
from funcdex_assets.sampling.combos import MAX_REPEATS, chain_links, length_weights, sample_combinations
from funcdex_assets.sampling.graph import ToolGraph


def make_tool(name: str, inputs: dict, outputs: dict, required: tuple[str, ...] = (), toolkit: str = "cal") -> Tool:
    return Tool(
        toolkit=toolkit,
        name=name,
        original_name=name,
        description=f"{name} for tests",
        input_schema={"type": "object", "properties": inputs, "required": list(required)},
        output_schema={"type": "object", "properties": outputs},
    )


STR = {"type": "string"}


def calendar_tools() -> list[Tool]:
    """LIST_CALENDARS -> CREATE_EVENT -> GET_EVENT / DELETE_EVENT; SEND_EMAIL and LIST_EVENTS are
    sources; GET_WIDGET needs an id nothing produces (the user's own, which they state)."""
    return [
        make_tool("LIST_CALENDARS", {"maxResults": {"type": "integer"}},
                  {"data": {"type": "object", "properties": {"calendars": {
                      "type": "array", "items": {"type": "object", "properties": {"id": STR, "summary": STR}}}}}}),
        make_tool("CREATE_EVENT", {"calendarId": STR, "summary": STR, "start": {"type": "string", "format": "date-time"}},
                  {"id": STR, "summary": STR, "organizer": {"type": "object", "properties": {"email": STR}}},
                  required=("calendarId", "summary")),
        # A required id with a documented default is no hard need.
        make_tool("GET_EVENT", {"calendarId": {"type": "string", "default": "primary"}, "eventId": STR},
                  {"id": STR, "summary": STR}, required=("calendarId", "eventId")),
        make_tool("DELETE_EVENT", {"eventId": STR}, {"successful": {"type": "boolean"}}, required=("eventId",)),
        # An optional id is accepted but not needed.
        make_tool("LIST_EVENTS", {"calendarId": STR, "q": STR},
                  {"items": {"type": "array", "items": {"type": "object", "properties": {"id": STR}}}}),
        make_tool("SEND_EMAIL", {"to": {"type": "string", "format": "email"}, "subject": STR},
                  {"id": STR, "threadId": STR}, required=("to",), toolkit="mail"),
        make_tool("GET_WIDGET", {"widgetId": STR}, {"name": STR}, required=("widgetId",)),
    ]


@pytest.fixture
def graph() -> ToolGraph:
    return ToolGraph.build(calendar_tools())


def test_nodes_needs_accepts_produces(graph: ToolGraph) -> None:
    nodes = graph.nodes
    assert list(nodes) == sorted(nodes)
    assert nodes["CREATE_EVENT"].needs == {"calendar_id"}
    assert nodes["CREATE_EVENT"].accepts == {"calendar_id"}
    assert "event_id" in nodes["CREATE_EVENT"].produces
    assert "email" in nodes["CREATE_EVENT"].produces
    assert {"summary", "event_summary"} <= nodes["CREATE_EVENT"].produces
    assert nodes["GET_EVENT"].needs == {"event_id"}
    assert nodes["GET_EVENT"].accepts == {"calendar_id", "event_id"}
    assert nodes["LIST_EVENTS"].needs == frozenset()
    assert nodes["LIST_EVENTS"].accepts == {"calendar_id"}
    assert "calendar_id" in nodes["LIST_CALENDARS"].produces
    assert {"email_id", "thread_id"} <= nodes["SEND_EMAIL"].produces
    # No tool returns widget_id: it is the user's context, not a need.
    assert graph.context_keys == {"widget_id"}
    assert nodes["GET_WIDGET"].needs == frozenset() and nodes["GET_WIDGET"].accepts == {"widget_id"}


def test_sources(graph: ToolGraph) -> None:
    assert graph.sources() == ["GET_WIDGET", "LIST_CALENDARS", "LIST_EVENTS", "SEND_EMAIL"]
    assert all(graph.nodes[s].is_source for s in graph.sources())


def test_feeds_and_edges(graph: ToolGraph) -> None:
    assert set(graph.feeds["CREATE_EVENT"]) == {"LIST_CALENDARS"}
    assert set(graph.feeds["GET_EVENT"]) == {"CREATE_EVENT", "LIST_CALENDARS", "LIST_EVENTS"}
    assert set(graph.feeds["DELETE_EVENT"]) == {"CREATE_EVENT", "GET_EVENT", "LIST_EVENTS"}
    assert graph.feeds["GET_WIDGET"] == ()
    assert graph.feeds["SEND_EMAIL"] == ()
    edges = {(p, c): keys for p, c, keys in graph.edges()}
    assert edges[("LIST_CALENDARS", "CREATE_EVENT")] == ("calendar_id",)
    assert edges[("CREATE_EVENT", "DELETE_EVENT")] == ("event_id",)
    assert all(p != c for p, c in edges)


def test_reachable_is_transitive_and_excludes_unfed(graph: ToolGraph) -> None:
    reach = graph.reachable()
    # DELETE_EVENT needs event_id, which only tools reachable from a source produce.
    assert reach == {"LIST_CALENDARS", "CREATE_EVENT", "GET_EVENT", "DELETE_EVENT", "LIST_EVENTS", "SEND_EMAIL",
                     "GET_WIDGET"}


def test_reachable_needs_a_source_chain() -> None:
    tools = [
        make_tool("GET_A", {"bId": STR}, {"id": STR}, required=("bId",)),
        make_tool("GET_B", {"aId": STR}, {"id": STR}, required=("aId",)),
    ]
    graph = ToolGraph.build(tools)
    # A cycle with no way in: no chain can produce either id first, so both are the user's to
    # state (an imported API's `appId` returned only by tools that take it).
    assert graph.context_keys == {"a_id", "b_id"}
    assert graph.sources() == ["GET_A", "GET_B"]
    assert graph.reachable() == {"GET_A", "GET_B"}
    # With a way in (FIND_A returns an a, GET_B then returns a b) both ids stay needs.
    linked = ToolGraph.build([*tools, make_tool("FIND_A", {}, {"a": {"type": "object", "properties": {"id": STR}}})])
    assert linked.context_keys == frozenset()
    assert (linked.nodes["GET_B"].needs, linked.nodes["GET_A"].needs) == ({"a_id"}, {"b_id"})


def _check_grounded(graph: ToolGraph, chain: tuple[str, ...]) -> None:
    assert graph.nodes[chain[0]].is_source, chain
    assert all(a != b for a, b in zip(chain, chain[1:])), chain
    have: set[str] = set()
    for name in chain:
        assert graph.nodes[name].needs <= have, (chain, name)
        have |= graph.nodes[name].produces


def test_sample_combinations_are_distinct_grounded_chains(graph: ToolGraph) -> None:
    combos = sample_combinations(graph, "cal", 25, seed=3, mean_length=9)
    assert len(combos) == 25
    assert len({c.tools for c in combos}) == 25
    for combo in combos:
        assert combo.bundle == "cal"
        assert 1 <= len(combo.tools) <= max(length_weights(9))
        assert all(a != b for a, b in zip(combo.tools, combo.tools[1:]))
        assert max(combo.tools.count(t) for t in combo.tools) <= MAX_REPEATS
        _check_grounded(graph, combo.tools)
        assert combo.combo_id == content_id("combo", "cal", list(combo.tools))
        assert combo.links == chain_links(graph, combo.tools)
        for consumer, key, producer in combo.links:
            assert producer < consumer
            assert key in graph.nodes[combo.tools[producer]].produces
            assert key in graph.nodes[combo.tools[consumer]].accepts
    # Every needed id of every step is linked to the step that produced it.
    for combo in combos:
        linked = {(c, k) for c, k, _ in combo.links}
        for i, name in enumerate(combo.tools):
            for key in graph.nodes[name].needs:
                assert (i, key) in linked


def test_sample_combinations_cover_every_reachable_tool(graph: ToolGraph) -> None:
    combos = sample_combinations(graph, "cal", 30, seed=11)
    used = {name for c in combos for name in c.tools}
    assert used == graph.reachable()


def test_chain_links_picks_latest_producer(graph: ToolGraph) -> None:
    chain = ("LIST_EVENTS", "LIST_CALENDARS", "CREATE_EVENT", "DELETE_EVENT")
    links = chain_links(graph, chain)
    assert (2, "calendar_id", 1) in links
    # event_id is produced by LIST_EVENTS (step 0) and CREATE_EVENT (step 2): the latest wins.
    assert (3, "event_id", 2) in links
    assert not any(c == 3 and p == 0 for c, _, p in links)


def test_sample_combinations_deterministic_per_seed_and_bundle(graph: ToolGraph) -> None:
    a = sample_combinations(graph, "cal", 12, seed=5)
    b = sample_combinations(ToolGraph.build(list(reversed(calendar_tools()))), "cal", 12, seed=5)
    assert a == b
    assert [c.tools for c in sample_combinations(graph, "cal", 12, seed=6)] != [c.tools for c in a]
    assert [c.tools for c in sample_combinations(graph, "other", 12, seed=5)] != [c.tools for c in a]


def test_sample_combinations_fewer_when_graph_has_fewer() -> None:
    graph = ToolGraph.build([make_tool("LIST_THINGS", {}, {"id": STR})])
    combos = sample_combinations(graph, "tiny", 5, seed=0)
    assert [c.tools for c in combos] == [("LIST_THINGS",)]


def test_usage_steers_away_from_heavily_used_sources(graph: ToolGraph) -> None:
    firsts = [sample_combinations(graph, "cal", 1, seed=s, usage={"LIST_CALENDARS": 10**9})[0].tools[0]
              for s in range(30)]
    assert "LIST_CALENDARS" not in firsts
    firsts_plain = [sample_combinations(graph, "cal", 1, seed=s)[0].tools[0] for s in range(30)]
    assert "LIST_CALENDARS" in firsts_plain


def test_catalog_every_tool_reachable(repo_root: Path) -> None:
    catalog = load_catalog(repo_root / "tool_catalog")
    unreachable = {}
    for bundle in catalog.bundles:
        graph = ToolGraph.build(catalog.bundle_tools(bundle.name))
        missing = sorted(set(graph.nodes) - graph.reachable())
        if missing:
            unreachable[bundle.name] = {name: sorted(graph.nodes[name].needs) for name in missing}
    assert not unreachable, f"tools no chain can reach (tool: needed ids): {unreachable}"


def test_by_id_tool_names_take_the_entity_before_by() -> None:
    assert tool_entity("GET_ISSUE_BY_ID") == "issue"
    graph = ToolGraph.build([
        make_tool("CREATE_ISSUE", {"summary": STR}, {"id": STR}, required=("summary",)),
        make_tool("GET_ISSUE_BY_ID", {"id": STR}, {"id": STR, "summary": STR}, required=("id",)),
    ])
    assert graph.reachable() == {"CREATE_ISSUE", "GET_ISSUE_BY_ID"}


def test_length_weights_centre_on_the_mean() -> None:
    assert length_weights(9) == {5: 1.0, 6: 2.0, 7: 3.0, 8: 4.0, 9: 5.0, 10: 4.0, 11: 3.0, 12: 2.0, 13: 1.0}
    assert length_weights(1) == {1: 1.0}
    assert length_weights(2) == {1: 1.0, 2: 2.0, 3: 1.0}
    with pytest.raises(ValueError, match="at least 1"):
        length_weights(0)


def test_chains_reach_the_mean_length_setting(graph: ToolGraph) -> None:
    """Long chains by default (repeats let a small toolkit fill them); short ones on request."""
    long = sample_combinations(graph, "cal", 40, seed=3, mean_length=9)
    short = sample_combinations(graph, "cal", 40, seed=3, mean_length=2)
    mean = sum(len(c.tools) for c in long) / len(long)
    assert mean >= 7, [c.tools for c in long]
    assert max(len(c.tools) for c in short) <= 3
