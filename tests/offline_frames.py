"""The embedded generator's stages run in order without Dagster, for tests that read what it
writes (phrasing, conversation shapes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from funcdex_assets.backends.offline import EmbeddedOfflineBackend
from funcdex_assets.catalog.loader import load_catalog
from funcdex_assets.catalog.models import Tool
from funcdex_assets.stages.generation import (
    combinations_frame,
    conversations_frame,
    outlines_frame,
    personas_frame,
    scenarios_frame,
)

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Written:
    """One bundle's frames: its tools, personas, outlines (with plans) and conversations (DML)."""

    tools: list[Tool]
    personas: pl.DataFrame
    outlines: pl.DataFrame
    conversations: pl.DataFrame


def write_bundle(bundle: str, combos: int, seed: int, mean_length: int = 9, thoughts: bool = False) -> Written:
    """`combos` sampled tool chains of `bundle` (mean length `mean_length`), each written as one
    conversation with `seed` (with reasoning turns when `thoughts`), on the built-in catalog."""
    tools = load_catalog(REPO / "tool_catalog").bundle_tools(bundle)
    toolkits = sorted({t.toolkit for t in tools})
    backend = EmbeddedOfflineBackend()
    chains = combinations_frame(tools, bundle, combos, seed, mean_length=mean_length)
    scenarios = scenarios_frame(chains, tools, backend, seed, bundle)
    personas = personas_frame(scenarios, backend, seed, bundle, toolkits)
    outlines = outlines_frame(personas, scenarios, chains, tools, backend, seed, bundle, thoughts)
    conversations = conversations_frame(outlines, personas, scenarios, tools, backend, seed, bundle, toolkits)
    return Written(tools, personas, outlines, conversations)
