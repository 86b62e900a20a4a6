"""Nightly regeneration: one new round per night for every bundle partition."""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg

from funcdex_assets.definitions import build_definitions
from funcdex_assets.defs.resources import DatasetOutputResource, GenerationSettings
from funcdex_assets.defs.schedules import nightly_regeneration, nightly_training_dataset


def _context(instance, when):
    return dg.build_schedule_context(instance=instance, scheduled_execution_time=when)


def test_each_night_is_a_new_round_for_every_partition_and_runs(tmp_path):
    night = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
    defs = build_definitions(settings=GenerationSettings(conversations_per_bundle=2),
                             output=DatasetOutputResource(directory=str(tmp_path / "out")))
    with dg.instance_for_test() as instance:
        assert isinstance(nightly_regeneration(_context(instance, night)), dg.SkipReason)
        instance.add_dynamic_partitions("bundles", ["whatsapp", "todoist"])
        requests = nightly_regeneration(_context(instance, night))
        assert [r.partition_key for r in requests] == ["whatsapp", "todoist"]
        assert {r.run_config["resources"]["settings"]["config"]["seed"] for r in requests} == {20261122}
        assert requests[0].run_key == "nightly-20261122-whatsapp"
        next_night = nightly_regeneration(_context(instance, datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)))
        assert next_night[0].run_config["resources"]["settings"]["config"]["seed"] == 20261123
        result = defs.resolve_job_def("generate_bundle").execute_in_process(
            instance=instance, partition_key="whatsapp", run_config=requests[0].run_config)
        assert result.success
        assert nightly_training_dataset(_context(instance, night)).run_key == "merge-20261122"
