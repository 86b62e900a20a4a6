"""The `llm` pool under a running daemon, with the model served over HTTP.

`dagster dev` on Postgres, its runs talking to a local OpenAI-compatible server (the scripted
stand-in for vLLM, answering every request after a delay). A backfill over two bundle
partitions runs both partitions side by side, yet their model-backed steps (pool `llm`, limit 1
in dagster.yaml) never overlap, while inside one step the server sees many requests at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer, delayed
from scripted_model import pipeline_responder

from dagster_dev import DagsterDev, instance_with_catalog, sql

REPO = Path(__file__).resolve().parents[1]
BUNDLES = ["whatsapp", "todoist"]
BUNDLE_ASSETS = ["bundle_tools", "tool_combinations", "scenarios", "deduplicated_scenarios", "personas", "outlines",
                 "dml_conversations", "validated_conversations", "conversation_scores",
                 "deduplicated_conversations", "parsed_dataset", "conversation_diversity"]
LLM_STEPS = ("scenarios", "personas", "outlines", "dml_conversations", "conversation_scores")
# Long enough that two runs' model steps would overlap without the pool.
DELAY_S = 1.5


@pytest.fixture(scope="module")
def served(fresh_postgres_db, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pool")
    home, catalog = instance_with_catalog(tmp, REPO, BUNDLES)
    with FakeOpenAIServer(delayed(DELAY_S, pipeline_responder)) as server:
        env = {"DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": fresh_postgres_db,
               "FUNCDEX_CATALOG_DIR": str(catalog), "FUNCDEX_OUTPUT_DIR": str(tmp / "out"),
               "FUNCDEX_AUTOMATION": "off", "FUNCDEX_LLM_BASE_URLS": server.url, "FUNCDEX_LLM_MODEL": "fake-model"}
        dev = DagsterDev(tmp, env, REPO)
        try:
            dev.wait_ready()
            yield dev, server, fresh_postgres_db
        finally:
            dev.stop()


def test_partitions_run_side_by_side_but_never_share_the_model_slot(served):
    dev, server, url = served
    for bundle in BUNDLES:
        dev.add_partition(bundle)
    # The model server's request count is progress too: inside one model step it moves between
    # two events.
    state = dev.backfill_all_partitions(BUNDLE_ASSETS, {"resources": {"settings": {"config": {
        "conversations_per_bundle": 3}}}}, also=lambda: server.calls)
    assert state["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), (state, dev.log_tail())
    assert state["numPartitions"] == len(BUNDLES)

    runs = [r for (r,) in sql(url, "SELECT run_id FROM run_tags WHERE key = 'dagster/backfill' AND value = %s",
                              state["id"])]
    assert len(runs) == len(BUNDLES), runs
    events = sql(url, "SELECT run_id, step_key, dagster_event_type, timestamp FROM event_logs WHERE run_id = ANY(%s) "
                      "AND dagster_event_type IN ('STEP_START', 'STEP_SUCCESS') ORDER BY id", runs)
    spans: dict[tuple[str, str], list] = {}
    for run, step, kind, at in events:
        spans.setdefault((run, step), [None, None])[0 if kind == "STEP_START" else 1] = at
    assert all(start and end for start, end in spans.values()), spans

    # The runs were in progress at the same time: without the pool their model steps could meet.
    first, second = ([min(s[0] for (r, _), s in spans.items() if r == run),
                      max(s[1] for (r, _), s in spans.items() if r == run)] for run in runs)
    assert first[0] < second[1] and second[0] < first[1], (first, second)
    # ...yet one model-backed step held the slot at a time.
    llm = sorted((s[0], s[1], run, step) for (run, step), s in spans.items() if step in LLM_STEPS)
    assert len(llm) == len(LLM_STEPS) * len(runs)
    for (_, end_a, run_a, step_a), (start_b, _, run_b, step_b) in zip(llm, llm[1:]):
        assert start_b >= end_a, f"{run_a}:{step_a} and {run_b}:{step_b} held the llm pool at the same time"
    # One step keeps many requests in flight on the server.
    assert server.max_concurrency >= 4, server.max_concurrency
