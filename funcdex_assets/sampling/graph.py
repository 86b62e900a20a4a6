"""The tool graph: an edge A -> B means an output field of A can feed an input of B.

Id edges (A returns `event_id`, B requires it) make chains grounded: B can only be called
once something earlier produced the id. Value edges (emails, dates, titles) are soft links
that make chains coherent but are not needed to call B, since a user can state such values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable

from funcdex_assets.catalog.fields import Slot, input_slots, output_slots
from funcdex_assets.catalog.models import Tool


@dataclass(frozen=True)
class ToolNode:
    tool: Tool
    inputs: tuple[Slot, ...]
    outputs: tuple[Slot, ...]
    # Id keys the tool cannot be called without (required, no default a user could use).
    needs: frozenset[str]
    # Id keys it could also take if something produced them.
    accepts: frozenset[str]
    # Every key its response exposes.
    produces: frozenset[str]

    @property
    def name(self) -> str:
        return self.tool.name

    @property
    def is_source(self) -> bool:
        return not self.needs


def build_node(tool: Tool) -> ToolNode:
    inputs = tuple(input_slots(tool.input_schema, tool.original_name))
    outputs = tuple(output_slots(tool.output_schema, tool.original_name))
    needs = frozenset(s.key for s in inputs if s.kind == "id" and s.required and "default" not in s.schema)
    accepts = frozenset(s.key for s in inputs if s.kind == "id")
    produces = frozenset(k for s in outputs for k in s.keys)
    return ToolNode(tool, inputs, outputs, needs, accepts, produces)


@dataclass
class ToolGraph:
    nodes: dict[str, ToolNode]
    # name -> names of tools whose outputs satisfy at least one of its id inputs
    feeds: dict[str, tuple[str, ...]] = field(default_factory=dict)

    # Required id keys no chain can produce first (never returned, or returned only by tools that
    # take them, like HubSpot's `appId`): the user's own context, which they state, so they do not
    # keep a tool out of every chain.
    context_keys: frozenset[str] = frozenset()

    @classmethod
    def build(cls, tools: Iterable[Tool]) -> "ToolGraph":
        nodes = {t.name: build_node(t) for t in sorted(tools, key=lambda t: t.name)}
        producible = _closure(nodes)[1]
        context = frozenset().union(*(n.needs for n in nodes.values())) - producible
        nodes = {name: replace(node, needs=node.needs - context) for name, node in nodes.items()}
        graph = cls(nodes, context_keys=context)
        for name, node in nodes.items():
            graph.feeds[name] = tuple(
                other for other, o in nodes.items() if other != name and o.produces & node.accepts
            )
        return graph

    def sources(self) -> list[str]:
        return [n for n, node in self.nodes.items() if node.is_source]

    def reachable(self) -> set[str]:
        """Tools that some chain starting at a source can call (their needs get produced)."""
        return _closure(self.nodes)[0]

    def edges(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(producer, consumer, id keys) for every id edge, for display."""
        out = []
        for consumer, producers in self.feeds.items():
            for producer in producers:
                keys = tuple(sorted(self.nodes[producer].produces & self.nodes[consumer].accepts))
                out.append((producer, consumer, keys))
        return out


def _closure(nodes: dict[str, ToolNode]) -> tuple[set[str], set[str]]:
    """(tools callable by chains from sources, keys those tools produce)."""
    have: set[str] = set()
    reach: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, node in nodes.items():
            if name not in reach and node.needs <= have:
                reach.add(name)
                have |= node.produces
                changed = True
    return reach, have
