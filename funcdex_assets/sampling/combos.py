"""Grounded tool combinations: ordered chains sampled from the tool graph.

A chain starts at a source tool (everything it requires a user can state) and grows only
with tools whose required ids an earlier step produces, preferring tools fed by the latest
steps, tools from toolkits the chain has not used yet (bundles are about using them together)
and tools used least so far (coverage). A tool may come back later in a chain (a second search,
another message): real sessions repeat tools, and small toolkits could not fill long chains
otherwise.

Lengths: a chain's target length is drawn around `mean_length` (default `DEFAULT_CHAIN_LENGTH`,
10), from `mean_length - spread` to `mean_length + spread` with the middle most likely. A chain
ends early when no tool can follow and the offline writer drops steps on deleted entities, so
conversations average about 9 calls, as Funcdex-MT's 8.6.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Mapping

from funcdex_assets.hashing import content_id, derive_seed
from funcdex_assets.sampling.graph import ToolGraph

DEFAULT_CHAIN_LENGTH = 10
# A tool appears at most this often in one chain, and never twice in a row.
MAX_REPEATS = 2
# A repeat is this much less likely than a tool the chain has not used.
REPEAT_WEIGHT = 0.25


def length_weights(mean_length: int) -> dict[int, float]:
    """Target chain length -> weight: a triangle from mean-spread to mean+spread (spread =
    mean // 2, so a mean of 9 gives 5..13 and a mean of 2 gives 1..3)."""
    if mean_length < 1:
        raise ValueError(f"mean chain length must be at least 1, got {mean_length}")
    spread = mean_length // 2
    return {k: float(spread + 1 - abs(k - mean_length))
            for k in range(max(1, mean_length - spread), mean_length + spread + 1)}


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
    mean_length: int = DEFAULT_CHAIN_LENGTH,
) -> list[Combo]:
    """`n` distinct chains for `bundle` (fewer only when the graph has fewer), of about
    `mean_length` tools each (see the module docstring). Raises ValueError for mean_length < 1."""
    weights = length_weights(mean_length)
    rng = random.Random(derive_seed(seed, bundle, "combos"))
    counts = {name: int((usage or {}).get(name, 0)) for name in graph.nodes}
    sources = graph.sources()
    if not sources:
        return []
    seen: set[tuple[str, ...]] = set()
    combos: list[Combo] = []
    misses = 0
    while len(combos) < n and misses < max_attempts_per_combo * max(n, 1):
        chain = _sample_chain(graph, sources, counts, rng, weights)
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


def _sample_chain(graph: ToolGraph, sources: list[str], counts: dict[str, int], rng: random.Random,
                  length_weights: dict[int, float]) -> tuple[str, ...]:
    lengths = list(length_weights)
    target = rng.choices(lengths, weights=[length_weights[k] for k in lengths])[0]
    first = rng.choices(sources, weights=[_weight(counts[s]) for s in sources])[0]
    chain = [first]
    have = set(graph.nodes[first].produces)
    while len(chain) < target:
        recent = set().union(*(graph.nodes[c].produces for c in chain[-2:]))
        toolkits = {graph.nodes[c].tool.toolkit for c in chain}
        candidates, weights = [], []
        for name, node in graph.nodes.items():
            if not node.needs <= have or name == chain[-1] or chain.count(name) >= MAX_REPEATS:
                continue
            w = _weight(counts[name]) * (REPEAT_WEIGHT if name in chain else 1.0)
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
