"""Nightly regeneration: one new round per night for every bundle partition."""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg

from funcdex_assets.definitions import build_definitions
from funcdex_assets.defs.resources import DatasetOutputResource, GenerationSettings
from funcdex_assets.defs.schedules import nightly_regeneration, nightly_training_dataset


def _evaluate(schedule, instance, when, settings=None):
    """Evaluate `schedule` the way the daemon does: inside its context. A schedule context on a
    persistent instance opens its own instance from the ref and makes it Dagster's current
    definitions-state storage (a context variable); leaving the context unexited leaves that
    variable on an instance that is later collected, and a job resolved afterwards fails with
    "Attempted to resolve undefined DagsterInstance weakref" (seen in CI, order-dependent)."""
    with dg.build_schedule_context(
            instance=instance, scheduled_execution_time=when,
            resources={"settings": settings or GenerationSettings(conversations_per_bundle=2)}) as context:
        return schedule(context)


def test_each_night_is_a_new_round_for_every_partition_and_runs(tmp_path):
    night = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
    defs = build_definitions(settings=GenerationSettings(conversations_per_bundle=2),
                             output=DatasetOutputResource(directory=str(tmp_path / "out")))
    with dg.instance_for_test() as instance:
        job = defs.resolve_job_def("generate_bundle")
        assert isinstance(_evaluate(nightly_regeneration, instance, night), dg.SkipReason)
        instance.add_dynamic_partitions("bundles", ["whatsapp", "todoist"])
        requests = _evaluate(nightly_regeneration, instance, night)
        assert [r.partition_key for r in requests] == ["whatsapp", "todoist"]
        assert {r.run_config["resources"]["settings"]["config"]["seed"] for r in requests} == {20261122}
        assert requests[0].run_key == "nightly-20261122-whatsapp"
        next_night = _evaluate(nightly_regeneration, instance, datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))
        assert next_night[0].run_config["resources"]["settings"]["config"]["seed"] == 20261123
        result = job.execute_in_process(
            instance=instance, partition_key="whatsapp", run_config=requests[0].run_config)
        assert result.success
        assert _evaluate(nightly_training_dataset, instance, night).run_key == "merge-20261122"


def _exported_rows(instance, bundle: str) -> int:
    event = instance.get_latest_materialization_event(dg.AssetKey("parsed_dataset"))
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("parsed_dataset"), asset_partitions=[bundle]), limit=1).records
    return records[0].asset_materialization.metadata["rows"].value if event else 0


def test_targets_per_bundle_and_from_the_environment(tmp_path, monkeypatch):
    """A bundle's own target overrides the default; a deployment sets the default through
    FUNCDEX_CONVERSATIONS_PER_BUNDLE (what the nightly schedule tops every bundle up to)."""
    monkeypatch.setenv("FUNCDEX_OUTPUT_DIR", str(tmp_path / "out"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("bundles", ["whatsapp", "todoist"])
        defs = build_definitions(settings=GenerationSettings(conversations_per_bundle=2, targets={"whatsapp": 3}))
        job = defs.resolve_job_def("generate_bundle")
        for bundle in ("whatsapp", "todoist"):
            assert job.execute_in_process(instance=instance, partition_key=bundle).success
        assert (_exported_rows(instance, "whatsapp"), _exported_rows(instance, "todoist")) == (3, 2)

        # The deployment's target comes from the environment; the nightly round keeps it.
        monkeypatch.setenv("FUNCDEX_CONVERSATIONS_PER_BUNDLE", "4")
        defs = build_definitions()
        night = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
        requests = _evaluate(nightly_regeneration, instance, night, defs.resources["settings"])
        config = requests[1].run_config["resources"]["settings"]["config"]
        assert (requests[1].partition_key, config["seed"], config["conversations_per_bundle"]) == ("todoist", 20261122, 4)
        assert defs.resolve_job_def("generate_bundle").execute_in_process(
            instance=instance, partition_key="todoist", run_config=requests[1].run_config).success
        assert _exported_rows(instance, "todoist") == 4  # 2 kept from the first round, 2 added


def test_a_bad_target_in_the_environment_names_the_variable(monkeypatch):
    import pytest

    from funcdex_assets.defs.resources import settings_from_env

    monkeypatch.setenv("FUNCDEX_CONVERSATIONS_PER_BUNDLE", "lots")
    with pytest.raises(ValueError, match="FUNCDEX_CONVERSATIONS_PER_BUNDLE='lots'.*positive whole number"):
        settings_from_env()
