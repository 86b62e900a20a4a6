"""Jobs: one bundle partition end to end, and the merged training dataset."""

import dagster as dg

from funcdex_assets.defs.assets import BUNDLE_ASSETS, MERGED_ASSETS, tool_catalog

bundle_job = dg.define_asset_job(
    "generate_bundle",
    selection=dg.AssetSelection.assets(*BUNDLE_ASSETS),
    description="Every per-bundle asset for one bundle partition.",
)

training_dataset_job = dg.define_asset_job(
    "build_training_dataset",
    selection=dg.AssetSelection.assets(*MERGED_ASSETS),
    description="Merge the bundles: the train/test dataset and the cross-bundle diversity report.",
)

catalog_job = dg.define_asset_job(
    "load_tool_catalog",
    selection=dg.AssetSelection.assets(tool_catalog),
    description="Load and check every toolkit file.",
)
