"""Every artifact but the catalog is partitioned by bundle; bundles come from bundles.yaml."""

import dagster as dg

BUNDLES_PARTITION = "bundles"
bundle_partitions = dg.DynamicPartitionsDefinition(name=BUNDLES_PARTITION)
