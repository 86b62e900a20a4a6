"""`dagster dev` on 127.0.0.1 against Postgres: a partition launched through GraphQL runs to success.

Every process the test starts is stopped by its process group id at the end.
"""

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

import pytest

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
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


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


@pytest.fixture
def dagster_dev(postgres_url, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_bytes((REPO / "dagster.yaml").read_bytes())
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": postgres_url,
           "FUNCDEX_AUTOMATION": "off", "FUNCDEX_OUTPUT_DIR": str(tmp_path / "out")}
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.Popen([str(dagster), "dev", "-m", "funcdex_assets.definitions", "-h", "127.0.0.1",
                             "-p", str(port)], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(tmp_path / "dagster.log", "wb"), start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail(f"dagster dev did not answer: {(tmp_path / 'dagster.log').read_text()[-2000:]}")
        yield port, tmp_path
    finally:
        # dagster dev starts the webserver, the daemon and code servers, some in process groups
        # of their own: stop each one we started, by id.
        started = [proc.pid, *_descendants(proc.pid)]
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in started[1:]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


LAUNCH = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } ... on RunConfigValidationInvalid { errors { message } }
} }"""
STATUS = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"


def test_a_partition_launched_through_graphql_materializes(dagster_dev, postgres_url):
    port, tmp = dagster_dev
    _graphql(port, 'mutation { addDynamicPartition(repositorySelector: {repositoryName: "__repository__", '
                   'repositoryLocationName: "funcdex_assets.definitions"}, partitionsDefName: "bundles", '
                   'partitionKey: "whatsapp") { __typename } }')
    params = {"selector": {"repositoryLocationName": "funcdex_assets.definitions",
                           "repositoryName": "__repository__", "jobName": "generate_bundle"},
              "runConfigData": {"resources": {"settings": {"config": {"conversations_per_bundle": 2}}}},
              "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "whatsapp"}]}}
    launched = _graphql(port, LAUNCH, {"params": params})["data"]["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    status = None
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status = _graphql(port, STATUS, {"id": run_id})["data"]["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(2)
    assert status == "SUCCESS", (status, (tmp / "dagster.log").read_text()[-3000:])
    rows = (tmp / "out" / "whatsapp" / "conversations.jsonl").read_text().splitlines()
    assert len(rows) == 2 and json.loads(rows[0])["bundle"] == "whatsapp"

    import psycopg2

    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM runs WHERE run_id = %s", (run_id,))
        assert cur.fetchone()[0] == "SUCCESS"
