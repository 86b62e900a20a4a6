"""Materialize the asset graph for some bundles through Dagster, outside the UI (the CLI's engine).

Runs go into a real Dagster instance ($DAGSTER_HOME, else .funcdex/dagster_home), so
`dagster dev` with the same DAGSTER_HOME shows the same partitions, runs and materializations.
Progress comes from the run's own event log, polled while the run executes.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import dagster as dg
from dagster import DagsterEventType, DagsterInstance
from dagster._core.utils import make_new_run_id

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.loader import load_catalog
from funcdex_assets.definitions import build_definitions
from funcdex_assets.defs.partitions import BUNDLES_PARTITION
from funcdex_assets.defs.resources import (
    REPO_ROOT,
    CatalogResource,
    DatasetOutputResource,
    GenerationSettings,
    LLMResource,
)

DEFAULT_HOME = Path(".funcdex") / "dagster_home"
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class StageReport:
    bundle: str
    asset: str
    metadata: dict[str, Any]


@dataclass
class CheckReport:
    """One asset check evaluation of a run: what failed (or passed) and why, in words."""

    bundle: str
    asset: str
    check: str
    passed: bool
    severity: str  # ERROR | WARN
    summary: str


@dataclass
class GenerationSummary:
    out: Path
    dagster_home: Path
    stages: list[StageReport] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    checks: list[CheckReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def warnings(self) -> list[CheckReport]:
        """Checks that failed at warning severity (the data flowed on)."""
        return [c for c in self.checks if not c.passed and c.severity != "ERROR"]

    @property
    def ok(self) -> bool:
        return not self.failures

    def metadata(self, bundle: str, asset: str) -> dict[str, Any]:
        for report in self.stages:
            if report.bundle == bundle and report.asset == asset:
                return report.metadata
        return {}


def instance_home() -> Path:
    """$DAGSTER_HOME if set, else a local folder, with the project's dagster.yaml in it.

    The local folder's copy follows the project file; a user's own $DAGSTER_HOME/dagster.yaml
    is never overwritten, only created when missing.
    """
    user_home = os.environ.get("DAGSTER_HOME")
    home = Path(user_home or DEFAULT_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    project_yaml = REPO_ROOT / "dagster.yaml"
    target = home / "dagster.yaml"
    stale = not target.exists() or (not user_home and target.read_bytes() != project_yaml.read_bytes())
    if project_yaml.exists() and stale:
        shutil.copyfile(project_yaml, target)
    return home


def open_instance(home: Path) -> DagsterInstance:
    os.environ["DAGSTER_HOME"] = str(home)
    return DagsterInstance.get()


def _metadata_values(entries: dict[str, Any]) -> dict[str, Any]:
    return {k: getattr(v, "value", v) for k, v in entries.items()}


class _RunWatcher(threading.Thread):
    """Reports each asset materialization and check evaluation of a run as soon as it lands in
    the event log."""

    def __init__(self, instance: DagsterInstance, run_id: str, bundle: str, on_stage: Callable[[StageReport], None],
                 on_check: Callable[[CheckReport], None]):
        super().__init__(daemon=True)
        self.instance, self.run_id, self.bundle = instance, run_id, bundle
        self.on_stage, self.on_check = on_stage, on_check
        self.stop = threading.Event()
        self.seen = 0

    def poll(self) -> None:
        records = self.instance.all_logs(self.run_id, of_type={DagsterEventType.ASSET_MATERIALIZATION,
                                                               DagsterEventType.ASSET_CHECK_EVALUATION})
        for record in records[self.seen:]:
            event = record.dagster_event
            if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
                mat = event.event_specific_data.materialization
                self.on_stage(StageReport(self.bundle, mat.asset_key.to_user_string(), _metadata_values(mat.metadata)))
            else:
                ev = event.event_specific_data
                summary = ev.description or str(_metadata_values(ev.metadata).get("summary", ""))
                self.on_check(CheckReport(self.bundle, ev.asset_key.to_user_string(), ev.check_name, ev.passed,
                                          ev.severity.value, summary))
        self.seen = len(records)

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.poll()
        self.poll()


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            cause = error
            while cause.cause is not None:
                cause = cause.cause
            return f"{event.step_key}: {cause.message.strip()}"
    return "run failed (see the run in the Dagster UI)"


def generate(
    bundles: list[str],
    conversations: int,
    seed: int,
    out: Path,
    include_thoughts: bool = False,
    catalog_dir: Path | None = None,
    on_stage: Callable[[StageReport], None] = lambda report: None,
    llm: LLMResource | None = None,
) -> GenerationSummary:
    """Materialize every asset of `bundles`, then the training dataset of those bundles."""
    catalog_resource = CatalogResource(directory=str(catalog_dir) if catalog_dir else "")
    catalog = load_catalog(catalog_resource.path())  # fail fast, before any run, on a bad catalog
    known = [b.name for b in catalog.bundles]
    unknown = [b for b in bundles if b not in known]
    if unknown:
        raise CatalogError(
            f"unknown bundle(s) {', '.join(unknown)}; bundles.yaml lists: {', '.join(known)}",
            file=str(catalog_resource.path() / "bundles.yaml"),
            fix="Add the bundle to bundles.yaml or pick a listed one.",
        )
    start = time.perf_counter()
    home = instance_home()
    summary = GenerationSummary(out=out.resolve(), dagster_home=home)
    defs = build_definitions(
        settings=GenerationSettings(conversations_per_bundle=conversations, seed=seed,
                                    include_assistant_thoughts=include_thoughts),
        output=DatasetOutputResource(directory=str(out.resolve())),
        catalog=catalog_resource,
        **({"llm": llm} if llm is not None else {}),
    )

    def report(stage: StageReport) -> None:
        summary.stages.append(stage)
        on_stage(stage)

    with open_instance(home) as instance:
        registered = set(instance.get_dynamic_partitions(BUNDLES_PARTITION))
        new = [b for b in bundles if b not in registered]
        if new:
            instance.add_dynamic_partitions(BUNDLES_PARTITION, new)

        def execute(job_name: str, label: str, **kwargs: Any) -> bool:
            run_id = make_new_run_id()
            watcher = _RunWatcher(instance, run_id, label, report, summary.checks.append)
            watcher.start()
            try:
                result = defs.resolve_job_def(job_name).execute_in_process(
                    instance=instance, run_id=run_id, raise_on_error=False, **kwargs)
            finally:
                watcher.stop.set()
                watcher.join()
            if not result.success:
                # A blocking check says why in words; the step failure only names the check.
                blocked = [c for c in summary.checks if c.bundle == label and not c.passed and c.severity == "ERROR"]
                summary.failures[label] = ("; ".join(f"{c.asset} {c.check}: {c.summary}" for c in blocked)
                                           or _failure_message(result))
            return result.success

        if execute("load_tool_catalog", "catalog", run_config=QUIET_LOGS):
            for bundle in bundles:
                execute("generate_bundle", bundle, partition_key=bundle, run_config=QUIET_LOGS)
            done = [b for b in bundles if b not in summary.failures]
            if done:
                execute("build_training_dataset", "dataset", run_config={
                    **QUIET_LOGS, "ops": {name: {"config": {"bundles": done}}
                                          for name in ("training_dataset", "dataset_diversity")}})
    summary.seconds = time.perf_counter() - start
    return summary
