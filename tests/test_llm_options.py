"""`funcdex generate`'s model options: what they set on the resource, their env vars, their errors.

The command runs in-process (click's CliRunner) with the runner's `generate` replaced by a stand-in
that records the LLM resource it is handed: these tests are about the options, not the graph
(tests/test_llm_pipeline.py runs the graph on a served model).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_openai_server import FakeOpenAIServer

from funcdex_assets import cli
from funcdex_assets.backends.base import PersonaRequest
from funcdex_assets.backends.llm import DEFAULT_SAMPLING
from funcdex_assets.defs.resources import OpenAICompatibleLLM, llm_resource_from_env
from funcdex_assets.llm.client import PROGRESS_LOGGER
from funcdex_assets.llm.options import LLMOptions, llm_from_options, options_from_env, parse_max_tokens
from funcdex_assets.runner import GenerationSummary

ENV_VARS = ("FUNCDEX_LLM_BASE_URLS", "FUNCDEX_LLM_MODEL", "FUNCDEX_LLM_API_KEY", "FUNCDEX_LLM_REQUEST_TIMEOUT",
            "FUNCDEX_LLM_RETRIES", "FUNCDEX_LLM_MAX_IN_FLIGHT", "FUNCDEX_LLM_MAX_TOKENS", "FUNCDEX_LLM_GRAMMAR_FIELD")


@pytest.fixture
def runs(monkeypatch, tmp_path):
    """The LLM resource each `funcdex generate` was handed (None: the offline backend)."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    handed: list[OpenAICompatibleLLM | None] = []

    def fake_generate(names, conversations, seed, out, *, llm=None, **kwargs):
        handed.append(llm)
        # What a model stage's client logs while it waits (see llm/client.py).
        logging.getLogger(PROGRESS_LOGGER).info("conversation: 1/4 rows done, 3 in flight, 0 retries")
        return GenerationSummary(out=Path(out), dagster_home=tmp_path)

    monkeypatch.setattr(cli, "generate", fake_generate)
    yield handed
    logger = logging.getLogger(PROGRESS_LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli.main, ["generate", "--bundles", "gmail", *args], env=env)


def test_help_names_every_option_with_its_env_var_and_the_stages() -> None:
    result = CliRunner().invoke(cli.main, ["generate", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for option, envvar in [("--request-timeout SECONDS", "FUNCDEX_LLM_REQUEST_TIMEOUT"),
                           ("--retries N", "FUNCDEX_LLM_RETRIES"), ("--max-in-flight N", "FUNCDEX_LLM_MAX_IN_FLIGHT"),
                           ("--max-tokens", "FUNCDEX_LLM_MAX_TOKENS"), ("--grammar-field", "FUNCDEX_LLM_GRAMMAR_FIELD")]:
        assert option in text and f"env var: {envvar}" in text
    assert "[default: 600]" in text and "[default: 4]" in text and "[default: 64]" in text
    assert all(stage in text for stage in DEFAULT_SAMPLING)


def test_options_set_the_resource(runs) -> None:
    result = invoke("--llm-url", "http://gpu:8000/v1", "--model", "m", "--request-timeout", "90", "--retries", "2",
                    "--max-in-flight", "8", "--max-tokens", "conversation=12000, judge=800",
                    "--grammar-field", "guided_grammar")
    assert result.exit_code == 0, result.output
    [llm] = runs
    assert (llm.base_urls, llm.model, llm.timeout_s, llm.max_retries, llm.max_in_flight, llm.grammar_field) == (
        "http://gpu:8000/v1", "m", 90.0, 2, 8, "guided_grammar")
    assert {stage: s.max_tokens for stage, s in llm.sampling.items()} == {"conversation": 12000, "judge": 800}
    assert llm.sampling["conversation"].temperature is None  # only max_tokens is overridden


def test_options_left_out_keep_the_resource_defaults(runs) -> None:
    assert invoke("--llm-url", "http://gpu:8000/v1", "--model", "m").exit_code == 0
    [llm] = runs
    default = OpenAICompatibleLLM(base_urls="x", model="m")
    assert (llm.timeout_s, llm.max_retries, llm.max_in_flight, llm.grammar_field, llm.sampling) == (
        default.timeout_s, default.max_retries, default.max_in_flight, default.grammar_field, {})


def test_env_vars_set_the_same_knobs(runs) -> None:
    env = {"FUNCDEX_LLM_BASE_URLS": "http://gpu:8000/v1", "FUNCDEX_LLM_MODEL": "m", "FUNCDEX_LLM_RETRIES": "7",
           "FUNCDEX_LLM_REQUEST_TIMEOUT": "30.5", "FUNCDEX_LLM_MAX_IN_FLIGHT": "3",
           "FUNCDEX_LLM_MAX_TOKENS": "persona=100", "FUNCDEX_LLM_GRAMMAR_FIELD": "guided_grammar"}
    result = invoke(env=env)
    assert result.exit_code == 0, result.output
    [llm] = runs
    assert (llm.max_retries, llm.timeout_s, llm.max_in_flight, llm.grammar_field) == (7, 30.5, 3, "guided_grammar")
    assert llm.sampling["persona"].max_tokens == 100


def test_an_unknown_stage_is_a_bad_parameter_listing_the_stages(runs) -> None:
    result = invoke("--llm-url", "http://gpu:8000/v1", "--model", "m", "--max-tokens", "conversaton=9000")
    assert result.exit_code == 2 and not runs
    assert "--max-tokens" in result.output and "unknown stage 'conversaton'" in result.output
    assert all(stage in result.output for stage in DEFAULT_SAMPLING)
    result = invoke("--llm-url", "http://gpu:8000/v1", "--model", "m", "--max-tokens", "judge=lots")
    assert result.exit_code == 2 and "whole number" in result.output


def test_options_without_a_server_url_are_an_error_naming_it(runs) -> None:
    result = invoke("--retries", "2", "--max-tokens", "judge=800")
    assert result.exit_code == 2 and not runs
    assert "Missing option '--llm-url'" in result.output
    assert "--retries, --max-tokens" in result.output and "FUNCDEX_LLM_BASE_URLS" in result.output


def test_the_same_settings_in_the_environment_without_a_server_are_ignored(runs) -> None:
    # A shell that exports the knobs for model runs can still run the offline backend.
    result = invoke(env={"FUNCDEX_LLM_RETRIES": "2", "FUNCDEX_LLM_MAX_IN_FLIGHT": "4"})
    assert result.exit_code == 0, result.output
    assert runs == [None]


def test_a_server_url_without_a_model_names_the_missing_option(runs) -> None:
    result = invoke("--llm-url", "http://gpu:8000/v1")
    assert result.exit_code == 2 and "--model" in result.output and not runs


def test_progress_lines_are_printed_only_for_runs_with_a_model(runs) -> None:
    result = invoke()
    assert result.exit_code == 0 and "rows done" not in result.output
    result = invoke("--llm-url", "http://gpu:8000/v1", "--model", "m")
    assert result.exit_code == 0
    assert "conversation: 1/4 rows done, 3 in flight" in result.output
    invoke("--llm-url", "http://gpu:8000/v1", "--model", "m")  # a second run does not print it twice
    handlers = logging.getLogger(PROGRESS_LOGGER).handlers
    assert len([h for h in handlers if type(h).__name__ == "_ConsoleProgress"]) == 1


def test_max_tokens_reach_the_server(tmp_path) -> None:
    options = LLMOptions(max_tokens=parse_max_tokens("persona=123"))
    with FakeOpenAIServer() as server:
        llm = llm_from_options(server.url, "fake-model", options)
        backend = llm.backend(tmp_path)
        backend.personas([PersonaRequest(bundle="gmail", scenario="s", toolkits=["gmail"], seed=1)])
    [body] = server.requests
    assert body["max_tokens"] == 123
    assert body["temperature"] == DEFAULT_SAMPLING["persona"].temperature


def test_dagster_dev_reads_the_same_env_vars(monkeypatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FUNCDEX_LLM_BASE_URLS", "http://gpu:8000/v1")
    monkeypatch.setenv("FUNCDEX_LLM_MODEL", "m")
    monkeypatch.setenv("FUNCDEX_LLM_MAX_IN_FLIGHT", "5")
    monkeypatch.setenv("FUNCDEX_LLM_MAX_TOKENS", "judge=700")
    llm = llm_resource_from_env()
    assert isinstance(llm, OpenAICompatibleLLM)
    assert llm.max_in_flight == 5 and llm.sampling["judge"].max_tokens == 700
    monkeypatch.setenv("FUNCDEX_LLM_RETRIES", "-1")
    with pytest.raises(ValueError, match="FUNCDEX_LLM_RETRIES='-1'"):
        llm_resource_from_env()


def test_parse_max_tokens() -> None:
    assert parse_max_tokens("") == {}
    assert parse_max_tokens("conversation=12000,judge=800,") == {"conversation": 12000, "judge": 800}
    for bad, needle in [("conversation", "STAGE=N"), ("=5", "STAGE=N"), ("judge=0", "whole number"),
                        ("chat=5", "stages: scenario, persona")]:
        with pytest.raises(ValueError, match=needle):
            parse_max_tokens(bad)
    assert options_from_env({"FUNCDEX_LLM_GRAMMAR_FIELD": "guided_grammar"}).grammar_field == "guided_grammar"
    with pytest.raises(ValueError, match="FUNCDEX_LLM_GRAMMAR_FIELD"):
        options_from_env({"FUNCDEX_LLM_GRAMMAR_FIELD": "guided_json"})
