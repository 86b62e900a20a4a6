"""The whole asset graph through Dagster on the embedded backend, as `funcdex generate` runs it."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.defs.resources import GenerationSettings
from funcdex_assets.quality.report import report_files
from funcdex_assets.runner import generate

BUNDLES = ["gmail", "jira_gmail"]


def _run(tmp: Path, monkeypatch, name: str, seed: int = 7, n: int = 8, bundles=BUNDLES, catalog_dir=None):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp / f"home-{name}"))
    return generate(bundles, n, seed, tmp / f"out-{name}", catalog_dir=catalog_dir)


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    mp = pytest.MonkeyPatch()
    try:
        summary = _run(tmp, mp, "a")
    finally:
        mp.undo()
    assert summary.ok, summary.failures
    return tmp, summary


def test_files_are_written_per_bundle_and_split(run_dir):
    tmp, summary = run_dir
    out = tmp / "out-a"
    for bundle in BUNDLES:
        assert len(_rows(out / bundle / "conversations.jsonl")) == 8
    train, test = _rows(out / "train.jsonl"), _rows(out / "test.jsonl")
    assert len(train) + len(test) == 16 and test
    assert {r["bundle"] for r in train + test} == set(BUNDLES)
    assert not {r["conversation_id"] for r in train} & {r["conversation_id"] for r in test}


def test_rows_are_trl_rows_with_valid_arguments_answered_calls_and_grounded_ids(run_dir):
    tmp, _ = run_dir
    out = tmp / "out-a"
    report = report_files([out / "train.jsonl", out / "test.jsonl"])
    figures = report.figures()
    assert not report.problems, report.problems[:5]
    assert figures["rows"] == 16 and figures["rows_parsed_pct"] == 100.0
    assert figures["arguments_valid_pct"] == 100.0 and figures["calls_answered_pct"] == 100.0
    assert figures["id_arguments_after_first_call"] > 0 and figures["id_arguments_grounded_pct"] >= 90.0
    for row in _rows(out / "train.jsonl"):
        assert row["messages"][-1]["role"] == "assistant"
        assert all(t["type"] == "function" for t in row["tools"])


def test_lineage_ids_are_carried_to_the_dataset(run_dir):
    tmp, _ = run_dir
    row = _rows(tmp / "out-a" / "gmail" / "conversations.jsonl")[0]
    meta = row["metadata"]
    for key, prefix in (("combo_id", "combo_"), ("scenario_id", "scn_"), ("persona_id", "per_"), ("outline_id", "out_")):
        assert meta[key].startswith(prefix)
    assert row["conversation_id"].startswith("conv_")


def test_materializations_land_in_the_dagster_instance(run_dir, monkeypatch):
    from dagster import AssetKey, DagsterInstance

    tmp, _ = run_dir
    monkeypatch.setenv("DAGSTER_HOME", str(tmp / "home-a"))  # the storage lives where DAGSTER_HOME says
    with DagsterInstance.get() as instance:
        assert set(instance.get_dynamic_partitions("bundles")) == set(BUNDLES)
        for asset in ("tool_combinations", "validated_conversations", "parsed_dataset"):
            status = instance.get_materialized_partitions(AssetKey(asset))
            assert status == set(BUNDLES), asset
        event = instance.get_latest_materialization_event(AssetKey("training_dataset"))
        assert event is not None


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(run_dir, tmp_path, monkeypatch):
    tmp, _ = run_dir
    assert _run(tmp_path, monkeypatch, "b").ok
    for rel in ("gmail/conversations.jsonl", "jira_gmail/conversations.jsonl", "train.jsonl", "test.jsonl"):
        assert (tmp / "out-a" / rel).read_bytes() == (tmp_path / "out-b" / rel).read_bytes(), rel
    assert _run(tmp_path, monkeypatch, "c", seed=8, bundles=["gmail"]).ok
    assert (tmp_path / "out-c" / "gmail" / "conversations.jsonl").read_bytes() != \
        (tmp / "out-a" / "gmail" / "conversations.jsonl").read_bytes()


def test_a_broken_toolkit_file_fails_before_any_run_naming_it(repo_root, tmp_path, monkeypatch):
    catalog = tmp_path / "catalog"
    shutil.copytree(repo_root / "tool_catalog", catalog)
    tools = json.loads((catalog / "jira.json").read_text())
    tools[1]["tool_input_parameters"] = {"summary": {"type": "strin", "required": True}}
    (catalog / "jira.json").write_text(json.dumps(tools))
    with pytest.raises(CatalogError) as exc:
        _run(tmp_path, monkeypatch, "broken", bundles=["jira_gmail"], catalog_dir=catalog)
    message = str(exc.value)
    assert "jira.json" in message and tools[1]["tool_id"] in message and "strin" in message
    assert not (tmp_path / "out-broken").exists()


def test_an_unknown_bundle_is_refused_with_the_known_ones(tmp_path, monkeypatch):
    with pytest.raises(CatalogError, match="unknown bundle.*gmial.*gmail"):
        _run(tmp_path, monkeypatch, "unknown", bundles=["gmial"])


def test_a_second_round_dedups_against_the_first_and_samples_rarely_used_tools_more(tmp_path, monkeypatch):
    from dagster import AssetKey, DagsterInstance

    first = _run(tmp_path, monkeypatch, "r", seed=7, bundles=["gmail"])
    assert first.ok
    second = _run(tmp_path, monkeypatch, "r", seed=8, bundles=["gmail"])
    assert second.ok, second.failures
    oversample = GenerationSettings().oversample
    # Every scenario the first round accepted (of the ceil(8 * oversample) it wrote) is compared.
    accepted = first.metadata("gmail", "deduplicated_scenarios")["accepted"]
    assert 0 < accepted <= math.ceil(8 * oversample)
    assert second.metadata("gmail", "deduplicated_scenarios")["compared_with_earlier_rounds"] == accepted
    assert second.metadata("gmail", "deduplicated_conversations")["compared_with_earlier_rounds"] > 0
    usage = second.metadata("gmail", "tool_combinations")["earlier_rounds_tool_usage"]
    assert sum(usage.values()) > 0
    exported = second.metadata("gmail", "parsed_dataset")
    assert exported["kept_from_earlier_rounds"] == 8 and exported["added_this_round"] == 0  # target already met
    # A full bundle samples nothing new: the round costs no generation.
    assert second.metadata("gmail", "tool_combinations")["wanted_this_round"] == 0
    assert second.metadata("gmail", "scenarios")["rows"] == 0
    third = generate(["gmail"], 12, 9, tmp_path / "out-r3")
    assert third.ok, third.failures
    exported = third.metadata("gmail", "parsed_dataset")
    assert exported["kept_from_earlier_rounds"] == 8 and exported["added_this_round"] == 4  # topped up to 12
    # Sized to the 4 missing rows (with the oversample), not to the whole target of 12.
    assert third.metadata("gmail", "tool_combinations")["wanted_this_round"] == math.ceil(4 * oversample)
    rows = _rows(tmp_path / "out-r3" / "gmail" / "conversations.jsonl")
    assert len(rows) == 12 and len({r["conversation_id"] for r in rows}) == 12
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home-r"))
    with DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(AssetKey("dataset_diversity"))
        meta = event.asset_materialization.metadata
        assert "data:image/png;base64," in meta["diversity"].value
        assert meta["figures"].value["conversations"] == 12


def test_diversity_is_reported_per_bundle_and_overall(run_dir):
    _, summary = run_dir
    per_bundle = summary.metadata("gmail", "conversation_diversity")["figures"]
    overall = summary.metadata("dataset", "dataset_diversity")["figures"]
    assert per_bundle["conversations"] == 8 and overall["conversations"] == 16
    assert 0 < per_bundle["coverage"] <= 1 and per_bundle["entropy_bits"] > 0
    assert set(overall["bundles"]) == set(BUNDLES)
