"""The asset graph on a model served over the OpenAI protocol (a local scripted server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer, closed_port_url
from scripted_model import constraint_of, dml_answer, pipeline_responder

from funcdex_assets.backends.base import ConversationRequest, Outline, Persona, PersonaRequest
from funcdex_assets.backends.llm import ConstraintIgnoredError, LLMBackend
from funcdex_assets.catalog.loader import load_catalog
from funcdex_assets.dml.model import ToolCallTurn, UserTurn
from funcdex_assets.dml.renderer import render_dml
from funcdex_assets.llm.client import OpenAICompatibleClient
from funcdex_assets.quality.report import report_files
from funcdex_assets.runner import generate

BUNDLES = ["gmail", "jira_gmail"]
PERSONA = Persona(name="Dana Ruiz", first_name="Dana", role="an operations lead", company="Acme", email="d@acme.io",
                  tone="friendly", clarity="good", timezone="Europe/Berlin", background="Runs planning.")


def _use_server(monkeypatch, url: str, home: Path) -> None:
    monkeypatch.setenv("FUNCDEX_LLM_BASE_URLS", url)
    monkeypatch.setenv("FUNCDEX_LLM_MODEL", "fake-model")
    monkeypatch.setenv("DAGSTER_HOME", str(home))


@pytest.fixture(scope="module")
def served_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("llm")
    mp = pytest.MonkeyPatch()
    with FakeOpenAIServer(pipeline_responder) as server:
        _use_server(mp, server.url, tmp / "home")
        try:
            first = generate(BUNDLES, 3, 7, tmp / "out1")
            calls_after_first = server.calls
            requests = list(server.requests)
            second = generate(BUNDLES, 3, 7, tmp / "out2")
            calls_after_second = server.calls
        finally:
            mp.undo()
    return tmp, first, second, requests, calls_after_first, calls_after_second


def test_the_graph_runs_on_the_served_model_and_writes_valid_rows(served_run):
    tmp, first, _, _, calls, _ = served_run
    assert first.ok, first.failures
    assert calls > 0
    figures = report_files([tmp / "out1" / b / "conversations.jsonl" for b in BUNDLES]).figures()
    assert figures["rows"] == 6 and figures["arguments_valid_pct"] == 100.0 and figures["calls_answered_pct"] == 100.0
    meta = first.metadata("gmail", "dml_conversations")
    assert meta["llm_calls"] > 0 and meta["prompt_tokens"] > 0 and "fake-model" in meta["llm"]


def test_rerun_of_unchanged_partitions_makes_zero_calls_and_same_bytes(served_run):
    tmp, _, second, _, calls_first, calls_second = served_run
    assert second.ok, second.failures
    assert calls_second == calls_first
    assert second.metadata("gmail", "dml_conversations")["llm_calls"] == 0
    assert second.metadata("gmail", "dml_conversations")["llm_cache_hits"] > 0
    for rel in ("gmail/conversations.jsonl", "train.jsonl"):
        assert (tmp / "out1" / rel).read_bytes() == (tmp / "out2" / rel).read_bytes()


def test_what_is_sent_grammar_per_bundle_is_byte_identical_and_json_stages_carry_schemas(served_run):
    _, _, _, requests, _, _ = served_run
    grammars: dict[str, set[str]] = {}
    stages_with_schema = set()
    for body in requests:
        kind, value = constraint_of(body)
        assert body["model"] == "fake-model" and "seed" in body and "max_tokens" in body
        if kind == "grammar":
            # A bundle's grammar holds every tool of the bundle (the prompt names only the chain's,
            # which may all be gmail tools in jira_gmail).
            bundle = "jira_gmail" if "JIRA_" in value else "gmail"
            grammars.setdefault(bundle, set()).add(value)
        else:
            assert kind == "json" and value["type"] == "object"
            stages_with_schema.add(tuple(sorted(value["properties"])))
    assert set(grammars) == set(BUNDLES)
    assert all(len(texts) == 1 for texts in grammars.values())  # compiled once per bundle by the server
    gmail_grammar = next(iter(grammars["gmail"]))
    assert "GMAIL_SEND_EMAIL" in gmail_grammar and "GMAIL_SEND_EMAIL" in next(iter(grammars["jira_gmail"]))
    assert ("scenario",) in stages_with_schema and ("tool_use_quality", "user_query_clarity") in stages_with_schema


def test_an_unreachable_endpoint_fails_the_run_naming_the_url(tmp_path, monkeypatch):
    from funcdex_assets.defs.resources import OpenAICompatibleLLM

    url = closed_port_url()
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    llm = OpenAICompatibleLLM(base_urls=url, model="fake-model", max_retries=1, backoff_s=0.01)
    summary = generate(["gmail"], 2, 7, tmp_path / "out", llm=llm)
    assert not summary.ok
    assert url in summary.failures["gmail"]


# ---- the backend on malformed model output --------------------------------------------------
def _backend(server: FakeOpenAIServer, tmp_path: Path, **kwargs) -> LLMBackend:
    from funcdex_assets.llm.cache import ResponseCache

    client = OpenAICompatibleClient([server.url], "fake-model", backoff_s=0.01, max_retries=1,
                                    cache=ResponseCache(tmp_path / "cache.sqlite"))
    return LLMBackend(client, **kwargs)


def _conversation_requests(n: int) -> list[ConversationRequest]:
    tools = list(load_catalog(Path(__file__).resolve().parents[1] / "tool_catalog").bundle_tools("gmail"))
    return [ConversationRequest(bundle="gmail", scenario=f"scenario {i}", persona=PERSONA,
                                outline=Outline(text="1. ask\n2. call", offered_tools=[t.name for t in tools]),
                                tools=tools, include_thoughts=False, seed=100 + i, bundle_tools=tools)
            for i in range(n)]


def _unknown_tool_dml() -> str:
    return render_dml([UserTurn(text="hi"), ToolCallTurn(name="GMAIL_DELETE_EVERYTHING", arguments={}),
                       ]) + "<tool_response>\n{}\n</tool_response>\n</assistant> done\n"


def test_invalid_conversations_are_repaired_with_the_validator_errors(tmp_path):
    def responder(body):
        if body["messages"][-1]["role"] == "user" and "breaks these rules" in body["messages"][-1]["content"]:
            return {"content": dml_answer(body, 1)}
        return {"content": _unknown_tool_dml()}

    with FakeOpenAIServer(responder) as server:
        backend = _backend(server, tmp_path, max_repairs=2, max_regenerations=0)
        results = backend.conversations(_conversation_requests(2))
        repair_prompts = [b["messages"][-1]["content"] for b in server.requests if len(b["messages"]) > 2]
    assert all(isinstance(r, str) for r in results)
    assert backend.conversation_stats.repairs == 2 and backend.conversation_stats.repaired_ok == 2
    assert repair_prompts and "GMAIL_DELETE_EVERYTHING" in repair_prompts[0]


def test_conversations_that_stay_invalid_are_rejects_with_reasons_not_crashes(tmp_path):
    def responder(body):
        prompt = body["messages"][1]["content"]
        if "scenario 0" in prompt:
            return {"content": _unknown_tool_dml()}
        return {"content": '</user> hi\n<tool>\n{"name": ', "finish_reason": "length"}

    with FakeOpenAIServer(responder) as server:
        backend = _backend(server, tmp_path, max_repairs=1, max_regenerations=1)
        results = backend.conversations(_conversation_requests(2))
    assert [r.reason for r in results] == ["invalid_after_repair:unknown_tool", "truncated"]
    assert "GMAIL_DELETE_EVERYTHING" in results[0].message and "max_tokens" in results[1].message
    assert backend.conversation_stats.failed == 2 and backend.conversation_stats.regenerations == 2


def test_a_server_that_ignores_the_grammar_is_a_clear_error_not_a_reject_storm(tmp_path):
    broken = "</user> hi\n</user> hello again\n</assistant> ok\n"  # two user turns in a row: grammar forbids

    with FakeOpenAIServer(lambda body: {"content": broken}) as server:
        backend = _backend(server, tmp_path)
        with pytest.raises(ConstraintIgnoredError, match="guided_grammar") as info:
            backend.conversations(_conversation_requests(4))
    assert "--grammar-field guided_grammar" in str(info.value) and "FUNCDEX_LLM_GRAMMAR_FIELD" in str(info.value)


def test_malformed_json_answers_are_rejects_with_reasons(tmp_path):
    answers = iter(['{"name": "Dana"', json.dumps({"name": "x"}), "not json at all"])
    with FakeOpenAIServer(lambda body: {"content": next(answers)}) as server:
        backend = _backend(server, tmp_path, max_repairs=0)
        results = backend.personas([PersonaRequest(bundle="gmail", scenario="s", toolkits=["gmail"], seed=i)
                                    for i in range(3)])
    assert sorted(r.reason for r in results) == ["invalid_json", "invalid_json", "schema_mismatch"]


def test_changing_one_prompt_re_asks_only_that_stage(tmp_path, monkeypatch):
    import shutil

    import jinja2

    from funcdex_assets.backends import templates

    with FakeOpenAIServer(pipeline_responder) as server:
        _use_server(monkeypatch, server.url, tmp_path / "home")
        assert generate(["gmail"], 2, 7, tmp_path / "out1").ok
        before = len(server.requests)
        prompts = tmp_path / "prompts"
        shutil.copytree(templates.PROMPT_DIR, prompts)
        judge = prompts / "judge.j2"
        judge.write_text(judge.read_text().replace("You grade", "You carefully grade"))
        monkeypatch.setattr(templates._env, "loader", jinja2.FileSystemLoader(str(prompts)))
        assert generate(["gmail"], 2, 7, tmp_path / "out2").ok
        new = server.requests[before:]
    assert new, "the judge prompt changed, so the judge must be asked again"
    assert all("tool_use_quality" in (constraint_of(b)[1] or {}).get("properties", {}) for b in new)


def test_a_run_killed_half_way_resumes_without_repeating_finished_calls(tmp_path, monkeypatch):
    from funcdex_assets.llm.cache import ResponseCache, default_cache_path

    with FakeOpenAIServer(pipeline_responder) as reference:
        _use_server(monkeypatch, reference.url, tmp_path / "ref-home")
        assert generate(["gmail"], 3, 7, tmp_path / "ref").ok
        total = reference.calls

    def dying(body):
        if dying.server.calls > total // 2:
            dying.server.go_down()
            return {"drop": True}
        return pipeline_responder(body)

    with FakeOpenAIServer(dying) as broken:
        dying.server = broken
        _use_server(monkeypatch, broken.url, tmp_path / "home")
        first = generate(["gmail"], 3, 7, tmp_path / "out")
    assert not first.ok and broken.url in first.failures["gmail"]
    finished = len(ResponseCache(default_cache_path(tmp_path / "home")))
    assert 0 < finished < total

    with FakeOpenAIServer(pipeline_responder) as healthy:
        _use_server(monkeypatch, healthy.url, tmp_path / "home")
        assert generate(["gmail"], 3, 7, tmp_path / "out").ok
    assert healthy.calls == total - finished
