"""Nightly regeneration: every bundle partition gets a new round (seed = the night's date).

A round keeps what earlier rounds exported and tops each bundle up to its target with new
conversations that are checked against everything earlier rounds accepted (history.py). The
merged dataset is rebuilt after the bundles. Times: FUNCDEX_NIGHTLY_CRON (default 02:00) and
FUNCDEX_MERGE_CRON (default 05:00), in FUNCDEX_SCHEDULE_TZ (default UTC).
"""

import os

import dagster as dg

from funcdex_assets.defs.jobs import bundle_job, training_dataset_job
from funcdex_assets.defs.partitions import BUNDLES_PARTITION
from funcdex_assets.defs.resources import GenerationSettings
from funcdex_assets.defs.sensors import AUTOMATION_ON

NIGHTLY_CRON = os.environ.get("FUNCDEX_NIGHTLY_CRON", "0 2 * * *")
MERGE_CRON = os.environ.get("FUNCDEX_MERGE_CRON", "0 5 * * *")
TIMEZONE = os.environ.get("FUNCDEX_SCHEDULE_TZ", "UTC")


def round_seed(context: dg.ScheduleEvaluationContext) -> int:
    """The night's round: its date as a number, so each night is a new seed and a rerun of
    the same night repeats the same round."""
    return int(context.scheduled_execution_time.strftime("%Y%m%d"))


def round_run_config(settings: GenerationSettings, seed: int) -> dict:
    """Run config for one round: every setting as deployed, with the round's seed.

    All of them, not just the seed: Dagster builds a resource from run config alone once any of
    its config is given, so `{"seed": ...}` by itself would reset the deployment's target and
    thresholds to the class defaults."""
    values = {name: getattr(settings, name) for name in GenerationSettings.model_fields}
    return {"resources": {"settings": {"config": {**values, "seed": seed}}}}


@dg.schedule(job=bundle_job, cron_schedule=NIGHTLY_CRON, execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.RUNNING if AUTOMATION_ON else dg.DefaultScheduleStatus.STOPPED)
def nightly_regeneration(context: dg.ScheduleEvaluationContext, settings: GenerationSettings):
    seed = round_seed(context)
    bundles = context.instance.get_dynamic_partitions(BUNDLES_PARTITION)
    if not bundles:
        return dg.SkipReason("no bundle partitions yet (the bundle sensor adds them from bundles.yaml)")
    return [
        dg.RunRequest(partition_key=bundle, run_key=f"nightly-{seed}-{bundle}", tags={"funcdex/round": str(seed)},
                      run_config=round_run_config(settings, seed))
        for bundle in bundles
    ]


@dg.schedule(job=training_dataset_job, cron_schedule=MERGE_CRON, execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.RUNNING if AUTOMATION_ON else dg.DefaultScheduleStatus.STOPPED)
def nightly_training_dataset(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(run_key=f"merge-{round_seed(context)}")
