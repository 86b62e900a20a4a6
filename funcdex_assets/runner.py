"""Materialize the asset graph for some bundles through Dagster, outside the UI (the CLI's engine).

Runs go into a real Dagster instance ($DAGSTER_HOME, else .funcdex/dagster_home), so
`dagster dev` with the same DAGSTER_HOME shows the same partitions, runs and materializations.
Progress comes from the run's own event log, polled while the run executes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
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
from funcdex_assets.export.folder import DatasetFolder, Manifest, check_output_folder
from funcdex_assets.locks import RunLocks
from funcdex_assets.sampling.combos import DEFAULT_CHAIN_LENGTH
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
    failed: bool = False  # the step failed; metadata holds only the model calls it made


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
    run_ids: list[str] = field(default_factory=list)
    stale_runs: list[str] = field(default_factory=list)
    previous_version: str | None = None  # what `out` held before this run
    manifest: Manifest | None = None  # what this run published (None: nothing published)

    @property
    def warnings(self) -> list[CheckReport]:
        """Checks that failed at warning severity (the data flowed on)."""
        return [c for c in self.checks if not c.passed and c.severity != "ERROR"]

    @property
    def ok(self) -> bool:
        return not self.failures

    def metadata(self, bundle: str, asset: str) -> dict[str, Any]:
        for report in self.stages:
            if report.bundle == bundle and report.asset == asset and not report.failed:
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
                                                               DagsterEventType.ASSET_OBSERVATION,
                                                               DagsterEventType.ASSET_CHECK_EVALUATION})
        for record in records[self.seen:]:
            event = record.dagster_event
            if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
                mat = event.event_specific_data.materialization
                self.on_stage(StageReport(self.bundle, mat.asset_key.to_user_string(), _metadata_values(mat.metadata)))
            elif event.event_type == DagsterEventType.ASSET_OBSERVATION:
                # A failed model step reports the calls it made (defs/assets.py _model_step).
                obs = event.event_specific_data.asset_observation
                self.on_stage(StageReport(self.bundle, obs.asset_key.to_user_string(), _metadata_values(obs.metadata),
                                          failed=True))
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


class GenerationInterrupted(Exception):
    """Ctrl-C (or SIGTERM) stopped the run: its Dagster run is marked canceled and nothing
    was published, so the output folder is what it was before."""


RUNNING = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED,
           dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.CANCELING)
PID_TAG, HOST_TAG = "funcdex/pid", "funcdex/host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def fail_dead_runs(instance: DagsterInstance) -> list[str]:
    """Mark failed the runs this CLI started on this host whose process is gone (killed with
    kill -9, a crash), and free the concurrency-pool slots they held: without it they stay
    STARTED forever and the next model step waits for their slot forever. Returns their ids."""
    host = socket.gethostname()
    dead = []
    for run in instance.get_runs(dg.RunsFilter(statuses=list(RUNNING), tags={HOST_TAG: host})):
        pid = run.tags.get(PID_TAG, "")
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            instance.report_run_failed(run, message=f"funcdex process {pid} ended without finishing this run "
                                                    "(killed or crashed); marked failed by the next funcdex run")
            # Its claim on the `llm` pool dies with it too: left claimed, every later model step
            # would wait for a slot forever (no daemon frees slots of runs the CLI executes).
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            dead.append(run.run_id)
    return dead


def _interrupted(result: dg.ExecuteInProcessResult) -> bool:
    for event in result.all_events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            while error is not None:
                if error.cls_name in ("DagsterExecutionInterruptedError", "KeyboardInterrupt"):
                    return True
                error = error.cause
    return False


class _Interrupts:
    """SIGINT / SIGTERM between Dagster runs set a flag (Dagster handles them inside a run);
    a second Ctrl-C raises KeyboardInterrupt as usual."""

    def __init__(self) -> None:
        self.received = False
        self._old: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.received and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.received = True

    def __enter__(self) -> "_Interrupts":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def generate(
    bundles: list[str],
    conversations: int,
    seed: int,
    out: Path,
    include_thoughts: bool = False,
    catalog_dir: Path | None = None,
    on_stage: Callable[[StageReport], None] = lambda report: None,
    llm: LLMResource | None = None,
    wait: bool = False,
    on_wait: Callable[[Path, str, float], None] = lambda folder, holder, seconds: None,
    allow_incomplete: bool = False,
    calls_per_conversation: int = DEFAULT_CHAIN_LENGTH,
    meaning_check: str = "error",
) -> GenerationSummary:
    """Materialize every asset of `bundles`, then publish those bundles together as one new
    version of `out` (only when every bundle succeeded; otherwise `out` is left as it was).

    `meaning_check`: "error" (a bundle above the meaning-defect maximum is not published) or
    "warn" (it is, with a warning). Raises CatalogError (bad catalog or bundle name), OutputFolderError (`out` unusable, found
    before any work), BusyError (another run holds `out` or the Dagster home; `wait` queues
    instead) and GenerationInterrupted (Ctrl-C / SIGTERM: the run is marked canceled)."""
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
    out = check_output_folder(out)
    start = time.perf_counter()
    home = instance_home()
    summary = GenerationSummary(out=out, dagster_home=home)
    current = DatasetFolder(out).current_dir()
    summary.previous_version = current.name if current else None
    defs = build_definitions(
        settings=GenerationSettings(conversations_per_bundle=conversations, seed=seed,
                                    include_assistant_thoughts=include_thoughts,
                                    allow_incomplete_rows=allow_incomplete,
                                    tool_calls_per_conversation=calls_per_conversation,
                                    semantic_check_severity=meaning_check),
        # Bundles are published together by the dataset run, once every bundle succeeded.
        output=DatasetOutputResource(directory=str(out), publish_bundles=False),
        catalog=catalog_resource,
        **({"llm": llm} if llm is not None else {}),
    )

    def report(stage: StageReport) -> None:
        summary.stages.append(stage)
        on_stage(stage)

    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    with RunLocks([home, out], wait=wait, on_wait=on_wait), _Interrupts() as interrupts, \
            open_instance(home) as instance:
        summary.stale_runs = fail_dead_runs(instance)
        registered = set(instance.get_dynamic_partitions(BUNDLES_PARTITION))
        new = [b for b in bundles if b not in registered]
        if new:
            instance.add_dynamic_partitions(BUNDLES_PARTITION, new)

        def execute(job_name: str, label: str, **kwargs: Any) -> bool:
            if interrupts.received:
                raise GenerationInterrupted(f"interrupted before {label}")
            run_id = make_new_run_id()
            watcher = _RunWatcher(instance, run_id, label, report, summary.checks.append)
            watcher.start()
            try:
                result = defs.resolve_job_def(job_name).execute_in_process(
                    instance=instance, run_id=run_id, raise_on_error=False, tags=tags, **kwargs)
            finally:
                watcher.stop.set()
                watcher.join()
            summary.run_ids.append(run_id)
            if interrupts.received or _interrupted(result):
                run = instance.get_run_by_id(run_id)
                if run is not None:
                    instance.report_run_canceled(run, message="interrupted (Ctrl-C / SIGTERM)")
                raise GenerationInterrupted(f"interrupted during {label}")
            if not result.success:
                # A blocking check says why in words; the step failure only names the check.
                blocked = [c for c in summary.checks if c.bundle == label and not c.passed and c.severity == "ERROR"]
                summary.failures[label] = ("; ".join(f"{c.asset} {c.check}: {c.summary}" for c in blocked)
                                           or _failure_message(result))
            return result.success

        try:
            if execute("load_tool_catalog", "catalog", run_config=QUIET_LOGS):
                for bundle in bundles:
                    execute("generate_bundle", bundle, partition_key=bundle, run_config=QUIET_LOGS)
                if not summary.failures:
                    if execute("build_training_dataset", "dataset", run_config={
                            **QUIET_LOGS, "ops": {name: {"config": {"bundles": bundles}}
                                                  for name in ("training_dataset", "dataset_diversity")}}):
                        summary.manifest = DatasetFolder(out).manifest()
        finally:
            summary.seconds = time.perf_counter() - start
    return summary
