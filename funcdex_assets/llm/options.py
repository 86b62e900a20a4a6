"""`funcdex generate`'s model options, and the `OpenAICompatibleLLM` resource they make.

    @main.command("generate")
    @click.option("--llm-url", ...)
    @click.option("--model", ...)
    @llm_options
    def generate_cmd(..., llm_url, model, model_options: LLMOptions):
        llm = llm_from_options(llm_url, model, model_options, progress=console)

Each option also reads an environment variable (listed in --help); `dagster dev` reads the same
variables (`defs/resources.py: llm_resource_from_env`), so a deployment sets them once. An option
left out keeps the resource's default. Options typed on the command line without a model server
to send to (--llm-url / FUNCDEX_LLM_BASE_URLS) are an error; the same variables in the
environment are then ignored, since the embedded offline backend has no use for them.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click
import dagster as dg
from click.core import ParameterSource

from funcdex_assets.backends.llm import DEFAULT_SAMPLING
from funcdex_assets.defs.resources import OpenAICompatibleLLM, StageSampling
from funcdex_assets.llm.client import PROGRESS_LOGGER
from funcdex_assets.llm.connection_errors import BASE_URLS_ENV, MAX_IN_FLIGHT_ENV, REQUEST_TIMEOUT_ENV

if TYPE_CHECKING:
    from rich.console import Console

RETRIES_ENV = "FUNCDEX_LLM_RETRIES"
MAX_TOKENS_ENV = "FUNCDEX_LLM_MAX_TOKENS"
GRAMMAR_FIELD_ENV = "FUNCDEX_LLM_GRAMMAR_FIELD"
GRAMMAR_FIELDS = ("structured_outputs", "guided_grammar")
STAGES = tuple(DEFAULT_SAMPLING)  # scenario, persona, tool_selection, outline, conversation, ...


def parse_max_tokens(text: str) -> dict[str, int]:
    """"conversation=12000,judge=800" -> {"conversation": 12000, "judge": 800}.

    Raises ValueError naming the bad entry: not STAGE=N, N not a whole number >= 1, or a stage
    that is not one of `STAGES` (the message lists them)."""
    out: dict[str, int] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        stage, sep, number = (part.strip() for part in entry.partition("="))
        if not sep or not stage:
            raise ValueError(f"{entry!r} is not STAGE=N (e.g. conversation=12000)")
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
        if not number.isdigit() or int(number) < 1:
            raise ValueError(f"{entry!r}: the max tokens must be a whole number >= 1")
        out[stage] = int(number)
    return out


class StageMaxTokens(click.ParamType):
    """STAGE=N[,STAGE=N] as a dict; a bad entry is a `click.BadParameter` naming the stages."""

    name = "STAGE=N[,STAGE=N]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dict[str, int]:
        if isinstance(value, dict):
            return value
        try:
            return parse_max_tokens(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@dataclass(frozen=True)
class LLMOptions:
    """The model options' values; None (or empty) where not given, so the resource's default holds."""

    request_timeout: float | None = None  # seconds one request may take (connect capped at 10 s)
    retries: int | None = None  # retries of a failed request, after its first attempt
    max_in_flight: int | None = None  # requests in flight across all replicas
    max_tokens: Mapping[str, int] = field(default_factory=dict)  # stage -> max completion tokens
    grammar_field: str | None = None  # structured_outputs | guided_grammar
    on_command_line: tuple[str, ...] = ()  # the options typed on the command line, e.g. ("--retries",)

    def resource_fields(self) -> dict[str, Any]:
        """The `OpenAICompatibleLLM` fields these values set (only the given ones)."""
        out: dict[str, Any] = {}
        if self.request_timeout is not None:
            out["timeout_s"] = self.request_timeout
        if self.retries is not None:
            out["max_retries"] = self.retries
        if self.max_in_flight is not None:
            out["max_in_flight"] = self.max_in_flight
        if self.max_tokens:
            out["sampling"] = {stage: StageSampling(max_tokens=n) for stage, n in self.max_tokens.items()}
        if self.grammar_field is not None:
            out["grammar_field"] = self.grammar_field
        return out


@dataclass(frozen=True)
class _Option:
    name: str  # the LLMOptions field and the click parameter
    envvar: str
    type: click.ParamType
    metavar: str | None
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def decorator(self) -> Callable[[Any], Any]:
        return click.option(self.flag, self.name, type=self.type, default=None, metavar=self.metavar,
                            envvar=self.envvar, show_envvar=True, help=self.help)


def _default(name: str) -> Any:
    return OpenAICompatibleLLM.model_fields[name].default


_OPTIONS = [
    _Option("request_timeout", REQUEST_TIMEOUT_ENV, click.FloatRange(min=0, min_open=True), "SECONDS",
            "Seconds one model request may take before it counts as timed out and is retried (connecting: "
            f"at most 10). [default: {_default('timeout_s'):g}]"),
    _Option("retries", RETRIES_ENV, click.IntRange(min=0), "N",
            "Retries of a request that timed out, was cut off, failed TLS or got HTTP 408/429/5xx. "
            f"[default: {_default('max_retries')}]"),
    _Option("max_in_flight", MAX_IN_FLIGHT_ENV, click.IntRange(min=1), "N",
            "Model requests in flight at once, across all replicas (enough keeps vLLM's batch full). "
            f"[default: {_default('max_in_flight')}]"),
    _Option("max_tokens", MAX_TOKENS_ENV, StageMaxTokens(), None,
            "Max completion tokens per stage, e.g. conversation=12000,judge=800. Stages [and defaults]: "
            + ", ".join(f"{s} [{DEFAULT_SAMPLING[s].max_tokens}]" for s in STAGES) + "."),
    _Option("grammar_field", GRAMMAR_FIELD_ENV, click.Choice(GRAMMAR_FIELDS), None,
            "Request field carrying the grammar / JSON Schema: structured_outputs (vLLM >= 0.10.2) or "
            f"guided_grammar (older vLLM; newer ones ignore it). [default: {_default('grammar_field')}]"),
]


def llm_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Click decorator: adds the model options and hands their values to `command` as one
    `model_options: LLMOptions` argument."""

    @functools.wraps(command)
    def with_options(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        values = {o.name: kwargs.pop(o.name) for o in _OPTIONS}
        typed = tuple(o.flag for o in _OPTIONS if ctx.get_parameter_source(o.name) == ParameterSource.COMMANDLINE)
        options = LLMOptions(**{k: v for k, v in values.items() if v is not None}, on_command_line=typed)
        return command(*args, model_options=options, **kwargs)

    for option in reversed(_OPTIONS):
        with_options = option.decorator()(with_options)
    return with_options


def options_from_env(environ: Mapping[str, str] = os.environ) -> LLMOptions:
    """The options' values from their environment variables (for `dagster dev`), checked as the
    CLI checks them. Raises ValueError naming the variable and what it must hold."""
    values: dict[str, Any] = {}
    for option in _OPTIONS:
        raw = environ.get(option.envvar, "").strip()
        if raw:
            try:
                values[option.name] = option.type.convert(raw, None, None)
            except click.BadParameter as exc:
                raise ValueError(f"{option.envvar}={raw!r}: {exc.format_message()}") from None
    return LLMOptions(**values)


def llm_from_options(llm_url: str | None, model: str | None, options: LLMOptions, *,
                     progress: Console | None = None) -> OpenAICompatibleLLM | None:
    """The model resource for `funcdex generate`: None without `llm_url` (the embedded offline
    backend runs). With `progress`, model stages' progress lines (`funcdex_assets.progress`)
    are printed on that console for the rest of the process.

    Raises click.MissingParameter when options were typed without --llm-url, and
    click.BadParameter when --llm-url comes without --model."""
    if not llm_url:
        if options.on_command_line:
            given = ", ".join(options.on_command_line)
            raise click.MissingParameter(
                f"{given} set{'s' if len(options.on_command_line) == 1 else ''} how requests go to a model server: "
                f"give its URL with --llm-url (or {BASE_URLS_ENV}), or leave {given} out for the embedded "
                "offline backend.", param_hint="'--llm-url'", param_type="option")
        return None
    if not model:
        raise click.BadParameter("--model (or FUNCDEX_LLM_MODEL) is needed with --llm-url", param_hint="--model")
    # The key is read from the environment by Dagster at run time, never passed on a command line.
    api_key = dg.EnvVar("FUNCDEX_LLM_API_KEY") if os.environ.get("FUNCDEX_LLM_API_KEY") else None
    llm = OpenAICompatibleLLM(base_urls=llm_url, model=model, api_key=api_key, **options.resource_fields())
    if progress is not None:
        print_progress(progress)
    return llm


class _ConsoleProgress(logging.Handler):
    def __init__(self, console: Console) -> None:
        super().__init__(logging.INFO)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.console.print(f"  {record.getMessage()}", style="dim", markup=False, highlight=False,
                               soft_wrap=True)
        except Exception:  # a broken console must not fail the run
            self.handleError(record)


def print_progress(console: Console) -> logging.Handler:
    """Print the `funcdex_assets.progress` lines on `console` (once, however often called);
    returns the handler, for `logging.getLogger(PROGRESS_LOGGER).removeHandler`."""
    logger = logging.getLogger(PROGRESS_LOGGER)
    for handler in [h for h in logger.handlers if isinstance(h, _ConsoleProgress)]:
        logger.removeHandler(handler)
    handler = _ConsoleProgress(console)
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler
