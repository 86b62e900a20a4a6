"""The Dagster code location: `dagster dev -m funcdex_assets.definitions`."""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster_polars import PolarsParquetIOManager

from funcdex_assets.defs.assets import ALL_ASSETS
from funcdex_assets.defs.checks import ALL_CHECKS
from funcdex_assets.defs.jobs import bundle_job, catalog_job, training_dataset_job
from funcdex_assets.defs.resources import (
    CatalogResource,
    DatasetOutputResource,
    EmbedderResource,
    llm_resource_from_env,
    settings_from_env,
)
from funcdex_assets.defs.schedules import nightly_regeneration, nightly_training_dataset
from funcdex_assets.defs.sensors import bundle_partitions_sensor, llm_pool_keeper


def default_resources() -> dict[str, Any]:
    return {
        # Parquet under the Dagster instance's storage directory (base_dir unset).
        "polars_io": PolarsParquetIOManager(),
        "settings": settings_from_env(),
        "catalog": CatalogResource(),
        "output": DatasetOutputResource(),
        "llm": llm_resource_from_env(),
        "embedder": EmbedderResource(),
    }


def build_definitions(**overrides: Any) -> dg.Definitions:
    """The project's definitions, with any resource replaced by keyword (CLI, tests)."""
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=[catalog_job, bundle_job, training_dataset_job],
        sensors=[bundle_partitions_sensor, llm_pool_keeper],
        schedules=[nightly_regeneration, nightly_training_dataset],
        resources={**default_resources(), **overrides},
    )


defs = build_definitions()
