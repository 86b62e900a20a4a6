"""The Dagster shell: assets, resources, partitions, jobs and sensors, split by role."""
