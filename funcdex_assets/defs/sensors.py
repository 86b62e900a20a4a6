"""Sensors: bundles listed in bundles.yaml become partitions (and get a first run)."""


import os

import dagster as dg

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.defs.assets import LLM_POOL
from funcdex_assets.defs.jobs import bundle_job
from funcdex_assets.defs.partitions import BUNDLES_PARTITION, bundle_partitions
from funcdex_assets.defs.resources import CatalogResource
from funcdex_assets.pool_keeper import release_stuck_steps


def new_bundles(listed: list[str], registered: list[str]) -> list[str]:
    known = set(registered)
    return [b for b in listed if b not in known]


# FUNCDEX_AUTOMATION=off starts the sensor (and schedules) stopped, e.g. for a UI session that
# must not launch runs by itself; they can still be turned on in the UI.
AUTOMATION_ON = os.environ.get("FUNCDEX_AUTOMATION", "on").lower() not in ("off", "0", "false")


# How often the daemon looks at bundles.yaml (seconds).
SENSOR_INTERVAL_S = int(os.environ.get("FUNCDEX_SENSOR_INTERVAL_S", "30"))


@dg.sensor(job=bundle_job, minimum_interval_seconds=SENSOR_INTERVAL_S,
           default_status=dg.DefaultSensorStatus.RUNNING if AUTOMATION_ON else dg.DefaultSensorStatus.STOPPED)
def bundle_partitions_sensor(context: dg.SensorEvaluationContext, catalog: CatalogResource):
    """Adds a partition for every bundle in bundles.yaml that has none yet and requests its run."""
    try:
        listed = [b.name for b in catalog.load().bundles]
    except CatalogError as exc:
        return dg.SkipReason(f"catalog does not load, no partitions added: {exc}")
    added = new_bundles(listed, context.instance.get_dynamic_partitions(BUNDLES_PARTITION))
    if not added:
        return dg.SkipReason("every bundle in bundles.yaml already has a partition")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=b, run_key=f"new-bundle-{b}") for b in added],
        dynamic_partitions_requests=[bundle_partitions.build_add_request(added)],
    )


POOL_KEEPER_INTERVAL_S = 15


# Infrastructure, not automation: it runs whatever FUNCDEX_AUTOMATION says (a stopped keeper
# would leave a run waiting forever next to a free slot).
@dg.sensor(minimum_interval_seconds=POOL_KEEPER_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Gives a free `llm` pool slot to a step left waiting next to it (pool_keeper.py).")
def llm_pool_keeper(context: dg.SensorEvaluationContext):
    released = release_stuck_steps(context.instance.event_log_storage, LLM_POOL)
    if released:
        context.log.warning(f"gave {released} free `{LLM_POOL}` slot(s) to step(s) left waiting next to them")
    return dg.SkipReason(f"released {released} stuck step(s)")
