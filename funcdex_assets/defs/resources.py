"""Resources: generation settings, the catalog location, the LLM backend, the output folder."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from funcdex_assets.backends.offline import EmbeddedOfflineBackend
from funcdex_assets.catalog.loader import Catalog, load_catalog

REPO_ROOT = Path(__file__).resolve().parents[2]


class GenerationSettings(dg.ConfigurableResource):
    """What to generate. Every stage reads the same settings, so they live in one resource."""

    conversations_per_bundle: int = Field(default=20, ge=1, description="Accepted conversations wanted per bundle.")
    seed: int = Field(default=7, description="Run seed; same seed, same bytes.")
    include_assistant_thoughts: bool = Field(default=False, description="Write </think> turns (reasoning_content).")
    oversample: float = Field(default=1.3, ge=1.0, description="Combinations sampled per wanted conversation.")
    near_duplicate_threshold: float = Field(default=0.85, gt=0, le=1,
                                            description="MinHash Jaccard at which a scenario is a duplicate.")
    min_user_turns: int = Field(default=1, ge=1)
    min_tool_use_quality: int = Field(default=4, ge=1, le=5, description="Judge score needed to keep a conversation.")
    system_prompt_dropout: float = Field(default=0.2, ge=0, le=1,
                                         description="Share of rows exported without a system prompt.")
    test_fraction: float = Field(default=0.15, ge=0, lt=1)


class CatalogResource(dg.ConfigurableResource):
    """Where toolkit files and bundles.yaml live (default: $FUNCDEX_CATALOG_DIR or tool_catalog/)."""

    directory: str = ""

    def path(self) -> Path:
        return Path(self.directory or os.environ.get("FUNCDEX_CATALOG_DIR") or REPO_ROOT / "tool_catalog")

    def load(self) -> Catalog:
        return load_catalog(self.path())


class DatasetOutputResource(dg.ConfigurableResource):
    """Where the JSONL files go (default: $FUNCDEX_OUTPUT_DIR or ./outputs)."""

    directory: str = ""

    def path(self) -> Path:
        return Path(self.directory or os.environ.get("FUNCDEX_OUTPUT_DIR") or "outputs").resolve()


class EmbeddedOfflineLLM(dg.ConfigurableResource):
    """The default LLM resource: the embedded, model-free, seed-deterministic generator."""

    locale: str = "en_US"

    def backend(self) -> EmbeddedOfflineBackend:
        return EmbeddedOfflineBackend(self.locale)
