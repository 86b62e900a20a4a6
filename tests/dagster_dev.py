"""Starting `dagster dev` (webserver + daemon + code server) for a test, talking to it over
GraphQL, and stopping every process it started by id."""

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

LOCATION = "funcdex_assets.definitions"
REPOSITORY = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__"}


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
            cwd=workdir, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
            stderr=open(self.log, "wb"), start_new_session=True)
        self.started: list[int] = [self.proc.pid]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dagster dev exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                urllib.request.urlopen(f"{self.url}/server_info", timeout=2)
                return
            except OSError:
                time.sleep(1)
        raise RuntimeError(f"dagster dev did not answer in {timeout:.0f} s: {self.log_tail()}")

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

    def backfill_all_partitions(self, assets: list[str], run_config: dict, timeout: float = 480) -> dict:
        """Launch a backfill of `assets` over every partition, as the UI's "Materialize all" does,
        and wait for it to end; its final state (`id`, `status`, `numPartitions`)."""
        launched = self.graphql("""mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
            __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
                                {"p": {"assetSelection": [{"path": [a]} for a in assets], "allPartitions": True,
                                       "runConfigData": run_config, "title": "all bundles"}})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill = launched["backfillId"]

        def done():
            state = self.graphql("""query($id: String!) { partitionBackfillOrError(backfillId: $id) {
                ... on PartitionBackfill { id status numPartitions } } }""", {"id": backfill})["partitionBackfillOrError"]
            return state if state["status"] in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED",
                                                "CANCELED") else None
        return wait_for(done, timeout, interval=3, what=f"backfill {backfill}")

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


def wait_for(predicate, timeout: float, interval: float = 2.0, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; return it, or raise naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def sql(url: str, query: str, *args) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall()
