"""Starting `dagster dev` (webserver + daemon + code server) for a test, talking to it over
GraphQL, waiting on it, and stopping every process it started by id.

Waits never have a total budget: a loaded machine makes a backfill slow, not stuck. A wait
(`wait_for`) polls an observed state (run statuses, the count of event-log rows of the runs,
the server's answer, the log's size, ...) and gives up only when that state has not changed for
a stall window (`STALL_S`), or at once when `dagster dev` exited (it exits when its webserver or
daemon dies). Giving up prints the last state, how long it had not changed, the run statuses,
the daemons' health and the tail of the dagster dev log."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, TypeVar

LOCATION = "funcdex_assets.definitions"
RUN_STATUS = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
REPOSITORY = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__"}
# Generous: a step on a loaded machine can sit minutes between two events, yet a wait that saw
# nothing change for this long is stuck, and says so with what it saw.
STALL_S = 600.0
RUN_DONE = ("SUCCESS", "FAILURE", "CANCELED")
BACKFILL_DONE = ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED")
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (from /proc), children first."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found.extend(children)
        frontier = children
    return found


def instance_with_catalog(tmp: Path, repo: Path, toolkits: list[str]) -> tuple[Path, Path]:
    """A DAGSTER_HOME with the project's dagster.yaml, and a catalog folder holding `toolkits`
    (copied from the repository) each as a single-toolkit bundle."""
    import shutil

    import yaml

    home, catalog = tmp / "home", tmp / "catalog"
    home.mkdir()
    catalog.mkdir()
    (home / "dagster.yaml").write_bytes((repo / "dagster.yaml").read_bytes())
    for toolkit in toolkits:
        shutil.copy(repo / "tool_catalog" / f"{toolkit}.json", catalog)
    (catalog / "bundles.yaml").write_text(yaml.safe_dump({"toolkits": toolkits}))
    return home, catalog


class DagsterDev:
    """A running `dagster dev` on 127.0.0.1; `stop()` ends every process it started."""

    def __init__(self, workdir: Path, env: dict[str, str], repo: Path):
        self.workdir = workdir
        self.port = free_port()
        self.log = workdir / "dagster.log"
        dagster = Path(sys.executable).with_name("dagster")
        self.proc = subprocess.Popen(
            [str(dagster), "dev", "-m", LOCATION, "-h", "127.0.0.1", "-p", str(self.port)],
            # Both streams: the daemon and webserver log to stdout, runs to stderr; a wait that gives
            # up shows the tail of both.
            cwd=workdir, env={**os.environ, **env}, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT,
            start_new_session=True)
        self.started: list[int] = [self.proc.pid]
        # With Postgres storage the event-log rows of a run are its finest-grained progress.
        self.postgres_url = env.get("DAGSTER_POSTGRES_URL")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        """Until the webserver answers /server_info. Progress while it starts: the log growing."""
        def observe() -> tuple[bool, int]:
            size = self.log.stat().st_size if self.log.exists() else 0
            try:
                urllib.request.urlopen(f"{self.url}/server_info", timeout=10).close()
                return True, size
            except OSError:
                return False, size
        self.wait(observe, "dagster dev to answer /server_info", done=lambda state: state[0])

    def exited(self) -> str | None:
        """Why `dagster dev` is no longer running (it exits when its webserver or daemon dies),
        or None while it runs."""
        code = self.proc.poll()
        return None if code is None else f"dagster dev exited with code {code}"

    def wait(self, observe: Callable[[], T], what: str, done: Callable[[T], Any] = bool,
             progress: Callable[[T], Any] = lambda state: state) -> T:
        """`wait_for` on this server: failing at once when it exited, and, on giving up, telling
        what `diagnose` tells."""
        return wait_for(observe, what, done=done, progress=progress, exited=self.exited, diagnose=self.diagnose)

    def diagnose(self) -> str:
        """What the server can still tell about its runs and daemons, and the log tail. Every part
        is asked separately, so a hung webserver still leaves the database's and the log's."""
        parts = []
        try:
            listed = self.graphql("{ runsOrError(limit: 20) { ... on Runs { results { runId status "
                                  "tags { key value } } } } }")["runsOrError"]["results"]
            parts.append("runs: " + ("; ".join(
                f"{r['runId'][:8]} {r['status']} " + ",".join(f"{t['key'].removeprefix('dagster/')}={t['value']}"
                                                              for t in r["tags"] if t["key"] in (
                                                                  "dagster/partition", "dagster/backfill"))
                for r in listed) or "none"))
        except Exception as exc:  # a diagnosis must not hide the failure it explains
            parts.append(f"runs: could not ask the webserver ({exc!r})")
        try:
            daemons = self.graphql("{ instance { daemonHealth { allDaemonStatuses { daemonType healthy "
                                   "lastHeartbeatErrors { message } } } } }")
            parts.append("daemons: " + "; ".join(
                f"{d['daemonType']} {'healthy' if d['healthy'] else 'UNHEALTHY'}"
                + (f" ({d['lastHeartbeatErrors'][0]['message'][:200]})" if d["lastHeartbeatErrors"] else "")
                for d in daemons["instance"]["daemonHealth"]["allDaemonStatuses"]))
        except Exception as exc:
            parts.append(f"daemons: could not ask the webserver ({exc!r})")
        if self.postgres_url:
            try:
                last = sql(self.postgres_url, """SELECT DISTINCT ON (run_id) run_id, step_key, dagster_event_type,
                    timestamp FROM event_logs WHERE run_id <> '' ORDER BY run_id, id DESC""")
                parts.append("last event of each run: " + ("; ".join(
                    f"{run[:8]} {kind} {step or ''} at {at:%H:%M:%S}" for run, step, kind, at in last) or "none"))
            except Exception as exc:
                parts.append(f"last events: could not read the database ({exc!r})")
        parts.append(f"dagster dev log ({self.log}), last lines:\n{self.log_tail()}")
        return "\n".join(parts)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            answer = json.loads(resp.read())
        if answer.get("errors"):
            raise AssertionError(f"GraphQL errors: {answer['errors']}")
        return answer["data"]

    def add_partition(self, key: str) -> None:
        self.graphql("""mutation($key: String!) { addDynamicPartition(repositorySelector: {repositoryName:
            "__repository__", repositoryLocationName: "funcdex_assets.definitions"}, partitionsDefName: "bundles",
            partitionKey: $key) { __typename } }""", {"key": key})

    def events(self, runs: list[str]) -> int | None:
        """How many event-log rows `runs` have (None without Postgres storage)."""
        if not self.postgres_url:
            return None
        return sql(self.postgres_url, "SELECT count(*) FROM event_logs WHERE run_id = ANY(%s)", runs)[0][0]

    def wait_run(self, run_id: str, also: Callable[[], Any] | None = None) -> str:
        """The final status of run `run_id`, waiting while its status or event count changes
        (and `also()`, some further progress such as a model server's request count)."""
        def observe() -> tuple:
            status = self.graphql(RUN_STATUS, {"id": run_id})["runOrError"]["status"]
            return status, self.events([run_id]), also() if also else None
        return self.wait(observe, f"run {run_id}", done=lambda state: state[0] in RUN_DONE)[0]

    def backfill_all_partitions(self, assets: list[str], run_config: dict,
                                also: Callable[[], Any] | None = None) -> dict:
        """Launch a backfill of `assets` over every partition, as the UI's "Materialize all" does,
        and wait for it to end; its final state (`id`, `status`, `numPartitions`). Progress: the
        backfill's status, its runs and their statuses, their event-log rows, and `also()`."""
        launched = self.graphql("""mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
            __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
                                {"p": {"assetSelection": [{"path": [a]} for a in assets], "allPartitions": True,
                                       "runConfigData": run_config, "title": "all bundles"}})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill = launched["backfillId"]

        def observe() -> tuple:
            state = self.graphql("""query($id: String!) { partitionBackfillOrError(backfillId: $id) {
                ... on PartitionBackfill { id status numPartitions runs { runId status } } } }""",
                                 {"id": backfill})["partitionBackfillOrError"]
            runs = tuple(sorted((r["runId"], r["status"]) for r in state["runs"]))
            return ({k: state[k] for k in ("id", "status", "numPartitions")}, runs, self.events([r for r, _ in runs]),
                    also() if also else None)
        return self.wait(observe, f"backfill {backfill}", done=lambda state: state[0]["status"] in BACKFILL_DONE)[0]

    def stop(self) -> None:
        # dagster dev starts the webserver, the daemon, code servers and run workers, some in
        # process groups of their own: stop each one we started, by id.
        self.started += descendants(self.proc.pid)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for pid in self.started[1:]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_for(observe: Callable[[], T], what: str, *, done: Callable[[T], Any] = bool,
             progress: Callable[[T], Any] = lambda state: state, exited: Callable[[], str | None] = lambda: None,
             diagnose: Callable[[], str] = lambda: "", stall_s: float = STALL_S, interval: float = 2.0,
             clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> T:
    """Poll `observe()` until `done(state)`; return that state.

    Every change of `progress(state)` (the state itself by default; a part of it when the rest,
    such as a timestamp, changes without anything happening) restarts the stall window: the wait
    gives up (an AssertionError naming `what`, the last state, how long it had not changed, the
    last error observing, and `diagnose()`) only when it has not changed for `stall_s`, never
    after a fixed total. An `OSError` from `observe` (a server too busy to answer) counts as no
    change. `exited()` says why the process under test is gone, failing the wait at once.
    """
    started = changed = clock()
    state: Any = _UNSEEN
    moved: Any = _UNSEEN
    error = None
    while True:
        gone = exited()
        if gone:
            raise AssertionError(f"{what}: {gone} after {clock() - started:.0f} s; last observed: {state!r}\n"
                                 f"{diagnose()}")
        try:
            seen = observe()
        except OSError as exc:
            error = exc
        else:
            if done(seen):
                return seen
            state = seen
            if progress(seen) != moved:
                moved, changed = progress(seen), clock()
        if clock() - changed >= stall_s:
            raise AssertionError(
                f"gave up waiting for {what}: nothing observed changed for {clock() - changed:.0f} s (stall window "
                f"{stall_s:.0f} s, {clock() - started:.0f} s in all)\nlast observed: {state!r}\n"
                + (f"last error observing: {error!r}\n" if error else "") + diagnose())
        sleep(interval)


_UNSEEN = "<nothing observed yet>"


def sql(url: str, query: str, *args) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall()
