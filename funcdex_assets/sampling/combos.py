"""Grounded tool combinations: ordered chains sampled from the tool graph.

A chain starts at a source tool (everything it requires a user can state) and grows only
with tools whose required ids an earlier step produces, preferring tools fed by the latest
steps, tools from toolkits the chain has not used yet (bundles are about using them together)
and tools used least so far (coverage).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Mapping

from funcdex_assets.hashing import content_id, derive_seed
from funcdex_assets.sampling.graph import ToolGraph

# Chain lengths: mostly multi-step; long chains are where grounding matters most.
LENGTH_WEIGHTS = {1: 1, 2: 3, 3: 4, 4: 4, 5: 3, 6: 2}


@dataclass(frozen=True)
class Combo:
    combo_id: str
    bundle: str
    tools: tuple[str, ...]
    # (consumer step, id key, producer step): where each grounded id comes from.
    links: tuple[tuple[int, str, int], ...]


def chain_links(graph: ToolGraph, chain: tuple[str, ...]) -> tuple[tuple[int, str, int], ...]:
    links = []
    for i, name in enumerate(chain):
        for key in sorted(graph.nodes[name].accepts):
            for j in range(i - 1, -1, -1):
                if key in graph.nodes[chain[j]].produces:
                    links.append((i, key, j))
                    break
    return tuple(links)


def sample_combinations(
    graph: ToolGraph,
    bundle: str,
    n: int,
    seed: int,
    usage: Mapping[str, int] | None = None,
    max_attempts_per_combo: int = 25,
) -> list[Combo]:
    """`n` distinct chains for `bundle` (fewer only when the graph has fewer)."""
    rng = random.Random(derive_seed(seed, bundle, "combos"))
    counts = {name: int((usage or {}).get(name, 0)) for name in graph.nodes}
    sources = graph.sources()
    if not sources:
        return []
    seen: set[tuple[str, ...]] = set()
    combos: list[Combo] = []
    misses = 0
    while len(combos) < n and misses < max_attempts_per_combo * max(n, 1):
        chain = _sample_chain(graph, sources, counts, rng)
        if chain in seen:
            misses += 1
            continue
        seen.add(chain)
        for name in chain:
            counts[name] += 1
        combos.append(Combo(content_id("combo", bundle, list(chain)), bundle, chain, chain_links(graph, chain)))
    return combos


def _weight(count: int) -> float:
    return 1.0 / (1.0 + count)


def _sample_chain(graph: ToolGraph, sources: list[str], counts: dict[str, int], rng: random.Random) -> tuple[str, ...]:
    lengths = list(LENGTH_WEIGHTS)
    target = rng.choices(lengths, weights=[LENGTH_WEIGHTS[k] for k in lengths])[0]
    first = rng.choices(sources, weights=[_weight(counts[s]) for s in sources])[0]
    chain = [first]
    have = set(graph.nodes[first].produces)
    while len(chain) < target:
        recent = set().union(*(graph.nodes[c].produces for c in chain[-2:]))
        toolkits = {graph.nodes[c].tool.toolkit for c in chain}
        candidates, weights = [], []
        for name, node in graph.nodes.items():
            if name in chain or not node.needs <= have:
                continue
            w = _weight(counts[name])
            if node.accepts & recent:
                w *= 4.0
            if node.tool.toolkit not in toolkits:
                w *= 2.0
            candidates.append(name)
            weights.append(w)
        if not candidates:
            break
        pick = rng.choices(candidates, weights=weights)[0]
        chain.append(pick)
        have |= graph.nodes[pick].produces
    return tuple(chain)
