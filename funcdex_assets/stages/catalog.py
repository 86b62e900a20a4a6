"""Catalog frames and their round trip back to typed tools."""

from __future__ import annotations

import json

import polars as pl

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.loader import Catalog
from funcdex_assets.catalog.models import Bundle, Tool
from funcdex_assets.frames import SCHEMAS, frame
from funcdex_assets.hashing import canonical_json, content_id


def _tool_row(tool: Tool) -> dict:
    return {
        "tool_uid": content_id("tool", tool.toolkit, tool.name, tool.input_schema, tool.output_schema),
        "toolkit": tool.toolkit,
        "name": tool.name,
        "original_name": tool.original_name,
        "description": tool.description,
        "input_schema": canonical_json(tool.input_schema),
        "output_schema": canonical_json(tool.output_schema),
        "source": tool.source,
        "source_format": tool.source_format,
    }


def catalog_frame(catalog: Catalog) -> pl.DataFrame:
    return frame("tool_catalog", (_tool_row(t) for t in catalog.tools))


def bundle_tools_frame(catalog_df: pl.DataFrame, bundle: Bundle) -> pl.DataFrame:
    """The catalog rows of the bundle's toolkits, sorted by tool name."""
    df = catalog_df.filter(pl.col("toolkit").is_in(list(bundle.toolkits))).sort("name")
    missing = sorted(set(bundle.toolkits) - set(df["toolkit"].unique().to_list()))
    if missing:
        raise CatalogError(
            f"toolkit(s) {', '.join(missing)} have no tools in the materialized tool_catalog",
            file="bundles.yaml", bundle=bundle.name,
            fix="Add the toolkit file to tool_catalog/ (or fix the bundle), then re-materialize tool_catalog.")
    dupes = df.group_by("name").agg(pl.col("toolkit")).filter(pl.col("toolkit").list.len() > 1)
    if dupes.height:
        row = dupes.row(0, named=True)
        raise CatalogError(
            f"toolkits {', '.join(sorted(row['toolkit']))} both define a tool named {row['name']!r}",
            file="bundles.yaml", bundle=bundle.name, tool=row["name"],
            fix="Rename the tool in one of the toolkit files.")
    return df.select(pl.lit(bundle.name).alias("bundle"), pl.all()).select(list(SCHEMAS["bundle_tools"]))


def tools_from_frame(df: pl.DataFrame) -> list[Tool]:
    return [
        Tool(
            toolkit=row["toolkit"],
            name=row["name"],
            original_name=row["original_name"],
            description=row["description"],
            input_schema=json.loads(row["input_schema"]),
            output_schema=json.loads(row["output_schema"]),
            source=row["source"] or "",
            source_format=row["source_format"] or "",
        )
        for row in df.iter_rows(named=True)
    ]
