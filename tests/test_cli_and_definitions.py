"""The CLI's contract and the Dagster definitions' wiring (sensor, partitions, jobs)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import dagster as dg
import pytest

from funcdex_assets.definitions import build_definitions, defs
from funcdex_assets.defs.assets import ALL_ASSETS, BUNDLE_ASSETS
from funcdex_assets.defs.resources import CatalogResource
from funcdex_assets.defs.sensors import bundle_partitions_sensor


def _cli(*args: str, env_home, cwd) -> subprocess.CompletedProcess:
    env = {"DAGSTER_HOME": str(env_home), "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-m", "funcdex_assets.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_cli_generate_reports_stages_and_writes_files(tmp_path):
    out = tmp_path / "out"
    proc = _cli("generate", "--bundles", "whatsapp_todoist", "--conversations", "3", "--seed", "5",
                "--out", str(out), env_home=tmp_path / "home", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for stage in ("tool_combinations", "validated_conversations", "parsed_dataset", "training_dataset"):
        assert stage in proc.stdout
    assert "Pipeline time" in proc.stdout
    rows = (out / "whatsapp_todoist" / "conversations.jsonl").read_text().splitlines()
    assert len(rows) == 3 and json.loads(rows[0])["bundle"] == "whatsapp_todoist"


def test_cli_names_the_broken_toolkit_file_and_exits_2(repo_root, tmp_path):
    catalog = tmp_path / "catalog"
    shutil.copytree(repo_root / "tool_catalog", catalog)
    (catalog / "gmail.json").write_text('[{"toolkit_name": "gmail", "tool_id": "SEND"', encoding="utf-8")
    proc = _cli("generate", "--bundles", "gmail", "--catalog", str(catalog), "--out", str(tmp_path / "out"),
                env_home=tmp_path / "home", cwd=tmp_path)
    assert proc.returncode == 2
    assert "gmail.json" in proc.stdout and "line 1" in proc.stdout


def test_every_per_bundle_asset_is_partitioned_by_bundle_and_versioned():
    for asset in BUNDLE_ASSETS:
        assert asset.partitions_def is not None and asset.partitions_def.name == "bundles", asset.key
    for asset in ALL_ASSETS:
        assert all(v for v in asset.code_versions_by_key.values()), asset.key
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"tool_catalog", "bundle_tools", "tool_combinations", "scenarios", "deduplicated_scenarios", "personas",
            "outlines", "dml_conversations", "validated_conversations", "conversation_scores", "parsed_dataset",
            "training_dataset"} <= keys


def test_sensor_adds_listed_bundles_once_and_requests_their_runs(repo_root):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("bundles", ["gmail"])
        with dg.build_sensor_context(instance=instance, resources={"catalog": CatalogResource()},
                                     definitions=build_definitions()) as context:
            result = bundle_partitions_sensor(context)
        added = result.dynamic_partitions_requests[0].partition_keys
        assert "gmail" not in added and "jira_gmail" in added and "whatsapp_todoist" in added
        assert {r.partition_key for r in result.run_requests} == set(added)


def test_sensor_skips_with_the_reason_when_the_catalog_is_broken(tmp_path):
    (tmp_path / "bundles.yaml").write_text("toolkits: [nope]\n")
    with dg.instance_for_test() as instance:
        with dg.build_sensor_context(instance=instance,
                                     resources={"catalog": CatalogResource(directory=str(tmp_path))}) as context:
            result = bundle_partitions_sensor(context)
        assert isinstance(result, dg.SkipReason) and "catalog does not load" in result.skip_message


@pytest.mark.parametrize("name", ["load_tool_catalog", "generate_bundle", "build_training_dataset"])
def test_jobs_resolve(name):
    assert defs.resolve_job_def(name) is not None


def test_report_flags_invalid_arguments_unanswered_calls_and_unreadable_rows(tmp_path):
    from funcdex_assets.quality.report import report_files

    tool = {"type": "function", "function": {"name": "GET", "description": "d", "parameters": {
        "type": "object", "properties": {"event_id": {"type": "string"}}, "required": ["event_id"]}}}
    call = lambda cid, args: {"role": "assistant", "content": "", "tool_calls": [  # noqa: E731
        {"id": cid, "type": "function", "function": {"name": "GET", "arguments": args}}]}
    row = {"tools": [tool], "messages": [
        {"role": "user", "content": "hi"},
        call("call_1", {"event_id": "ev1"}),
        {"role": "tool", "tool_call_id": "call_1", "name": "GET", "content": '{"id": "ev2"}'},
        call("call_2", {"event_id": "ev_made_up"}),
        {"role": "tool", "tool_call_id": "call_2", "name": "GET", "content": "{}"},
        call("call_3", {}),
        {"role": "assistant", "content": "done"},
    ]}
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(row) + "\n{not json\n")
    figures = report_files([path]).figures()
    assert figures["rows"] == 2 and figures["rows_parsed_pct"] == 50.0
    assert figures["tool_calls"] == 3 and figures["arguments_valid_pct"] == round(200 / 3, 2)
    assert figures["calls_answered_pct"] == round(200 / 3, 2)
    assert figures["id_arguments_after_first_call"] == 1 and figures["id_arguments_grounded_pct"] == 0.0


def _materialize_bundle(instance, bundle: str, tmp_path):
    from funcdex_assets.definitions import default_resources
    from funcdex_assets.defs.resources import DatasetOutputResource, GenerationSettings

    instance.add_dynamic_partitions("bundles", [bundle])
    return dg.materialize(
        ALL_ASSETS, selection=BUNDLE_ASSETS, partition_key=bundle, instance=instance, raise_on_error=False,
        resources={**default_resources(), "settings": GenerationSettings(conversations_per_bundle=2),
                   "output": DatasetOutputResource(directory=str(tmp_path / "out"))},
    )


def test_a_bundle_run_needs_no_prior_catalog_materialization(tmp_path):
    with dg.instance_for_test() as instance:
        result = _materialize_bundle(instance, "whatsapp", tmp_path)
        assert result.success
        assert (tmp_path / "out" / "whatsapp" / "conversations.jsonl").exists()


def test_a_partition_missing_from_bundles_yaml_fails_naming_it_and_the_fix(tmp_path):
    with dg.instance_for_test() as instance:
        result = _materialize_bundle(instance, "gmail_slack", tmp_path)
        assert not result.success
        failure = result.get_step_failure_events()[0].step_failure_data.error
        messages = []
        while failure is not None:
            messages.append(failure.message)
            failure = failure.cause
        text = " ".join(messages)
        assert "gmail_slack" in text and "bundles.yaml" in text


def test_calls_per_conversation_is_a_checked_option():
    from click.testing import CliRunner

    from funcdex_assets.cli import main

    result = CliRunner().invoke(main, ["generate", "--bundles", "gmail", "--calls-per-conversation", "0"])
    assert result.exit_code == 2 and "--calls-per-conversation" in result.output
