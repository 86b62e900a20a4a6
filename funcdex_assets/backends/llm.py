"""The model backend: every stage is a prompt template sent to a chat client.

Structured stages (scenario, persona, tool selection, outline, system prompt, judge) are
constrained by a JSON Schema; conversations by the bundle's DML grammar. A conversation that
fails validation goes back to the model with the validator's issues for up to `max_repairs`
corrections, then is regenerated (new seed) up to `max_regenerations` times; what still fails
is returned as a `StageError` with every issue, never dropped.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from jsonschema import Draft202012Validator

from funcdex_assets.backends.base import (
    ConversationRequest,
    JudgeRequest,
    JudgeScore,
    Outline,
    OutlineRequest,
    Persona,
    PersonaRequest,
    Result,
    ScenarioRequest,
    StageError,
    SystemPromptRequest,
)
from funcdex_assets.backends.templates import render_messages
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.grammar import load_grammar
from funcdex_assets.dml.parser import DMLParseError, parse_dml
from funcdex_assets.dml.validator import ValidationIssue, validate_conversation
from funcdex_assets.export.trl import tools_list
from funcdex_assets.llm.types import ChatClient, ChatRequest, ChatResult, Constraint, Sampling, StageUsage

MAX_DISTRACTORS = 3
MAX_OFFERED_TOOLS = 20
TONES = ("friendly", "formal", "terse", "casual")
CLARITY = (("excellent", 0.4), ("good", 0.4), ("average", 0.2))
# Issues a grammar-constrained answer cannot have: seeing them in answers that ended normally
# means the server did not apply the grammar.
GRAMMAR_GUARANTEED = frozenset({"unparseable", "first_turn_not_user", "bad_turn_order", "call_without_response",
                                "response_without_call", "ends_without_assistant", "unexpected_thought",
                                "too_many_parallel_calls"})

DEFAULT_SAMPLING: dict[str, Sampling] = {
    "scenario": Sampling(temperature=1.0, max_tokens=400),
    "persona": Sampling(temperature=0.9, max_tokens=400),
    "tool_selection": Sampling(temperature=0.2, max_tokens=400),
    "outline": Sampling(temperature=0.7, max_tokens=1200),
    "conversation": Sampling(temperature=0.8, max_tokens=8192),
    "repair": Sampling(temperature=0.2, max_tokens=8192),
    "system_prompt": Sampling(temperature=0.7, max_tokens=300),
    "judge": Sampling(temperature=0.0, max_tokens=600),
}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


_TEXT = {"type": "string", "minLength": 1}
SCHEMAS: dict[str, dict[str, Any]] = {
    "scenario": _obj({"scenario": {"type": "string", "minLength": 20}}),
    "persona": _obj({"name": _TEXT, "first_name": _TEXT, "role": _TEXT, "company": _TEXT,
                     "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"}, "timezone": _TEXT,
                     "background": _TEXT}),
    "outline": _obj({"outline": {"type": "string", "minLength": 20}}),
    "system_prompt": _obj({"system_prompt": {"type": "string", "minLength": 10}}),
    "judge": _obj({axis: _obj({"score": {"type": "integer", "minimum": 1, "maximum": 5}, "reason": _TEXT})
                   for axis in ("user_query_clarity", "tool_use_quality")}),
}


class ConstraintIgnoredError(RuntimeError):
    """The server answered without applying the grammar it was sent."""


def _tool_selection_schema(names: list[str]) -> dict[str, Any]:
    return _obj({"tools": {"type": "array", "items": {"enum": names}, "minItems": 1, "uniqueItems": True},
                 "reason": _TEXT})


def _seed(seed: int) -> int:
    return seed % (2**31 - 1)


@dataclass
class ConversationStats:
    generated: int = 0
    repairs: int = 0
    regenerations: int = 0
    repaired_ok: int = 0
    failed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class LLMBackend:
    name = "llm"

    def __init__(self, client: ChatClient, *, sampling: dict[str, Sampling] | None = None,
                 max_repairs: int = 3, max_regenerations: int = 1, use_specialized_grammar: bool = True):
        self.client = client
        self.sampling = {**DEFAULT_SAMPLING, **(sampling or {})}
        self.max_repairs = max_repairs
        self.max_regenerations = max_regenerations
        self.use_specialized_grammar = use_specialized_grammar
        self.conversation_stats = ConversationStats()
        self._grammars: dict[tuple[tuple[str, ...], bool], str] = {}

    # ---- plumbing ----------------------------------------------------------------------
    def usage(self) -> dict[str, StageUsage]:
        return self.client.usage

    def _sampling(self, stage: str, seed: int) -> Sampling:
        base = self.sampling[stage]
        return Sampling(temperature=base.temperature, max_tokens=base.max_tokens, top_p=base.top_p, seed=_seed(seed))

    def _json_stage(self, stage: str, requests: list[ChatRequest], schema_of: Callable[[int], dict[str, Any]],
                    ) -> list[dict[str, Any] | StageError]:
        """Run JSON-constrained requests; decode and check each answer against its schema."""
        out: list[dict[str, Any] | StageError] = []
        for i, result in enumerate(self.client.complete_many(requests)):
            out.append(_decode_json(stage, result, schema_of(i)))
        return out

    def _request(self, stage: str, seed: int, schema: dict[str, Any], **context: Any) -> ChatRequest:
        return ChatRequest(stage=stage, messages=render_messages(stage, **context),
                           sampling=self._sampling(stage, seed), constraint=Constraint("json_schema", schema))

    # ---- stages ------------------------------------------------------------------------
    def scenarios(self, requests: Sequence[ScenarioRequest]) -> list[Result[str]]:
        chats = [self._request("scenario", r.seed, SCHEMAS["scenario"], tools=r.tools,
                               earlier=r.earlier_scenarios[-50:], workflow=r.workflow_description)
                 for r in requests]
        return [d if isinstance(d, StageError) else d["scenario"].strip()
                for d in self._json_stage("scenario", chats, lambda i: SCHEMAS["scenario"])]

    def personas(self, requests: Sequence[PersonaRequest]) -> list[Result[Persona]]:
        fixed = []
        for r in requests:
            rng = random.Random(r.seed)
            fixed.append((rng.choice(TONES), rng.choices([c for c, _ in CLARITY], weights=[w for _, w in CLARITY])[0]))
        chats = [self._request("persona", r.seed, SCHEMAS["persona"], scenario=r.scenario, toolkits=r.toolkits,
                               tone=tone, clarity=clarity) for r, (tone, clarity) in zip(requests, fixed)]
        out: list[Result[Persona]] = []
        for decoded, (tone, clarity) in zip(self._json_stage("persona", chats, lambda i: SCHEMAS["persona"]), fixed):
            out.append(decoded if isinstance(decoded, StageError) else Persona(**decoded, tone=tone, clarity=clarity))
        return out

    def outlines(self, requests: Sequence[OutlineRequest]) -> list[Result[Outline]]:
        selections = self._json_stage(
            "tool_selection",
            [self._request("tool_selection", r.seed, _tool_selection_schema([t.name for t in r.bundle_tools]),
                           scenario=r.scenario, tools=r.bundle_tools) for r in requests],
            lambda i: _tool_selection_schema([t.name for t in requests[i].bundle_tools]),
        )
        offered: list[list[str] | StageError] = []
        for r, sel in zip(requests, selections):
            if isinstance(sel, StageError):
                offered.append(sel)
                continue
            chosen = sorted(set(sel["tools"]) | {t.name for t in r.tools})
            others = [t.name for t in r.bundle_tools if t.name not in chosen]
            rng = random.Random(r.seed ^ 0xD15)
            k = min(len(others), rng.randint(1, MAX_DISTRACTORS)) if others else 0
            offered.append(sorted(set(chosen) | set(rng.sample(others, k)))[:MAX_OFFERED_TOOLS])
        pending = [i for i, o in enumerate(offered) if not isinstance(o, StageError)]
        by_name = [{t.name: t for t in r.bundle_tools} for r in requests]
        texts = self._json_stage("outline", [
            self._request("outline", requests[i].seed, SCHEMAS["outline"], scenario=requests[i].scenario,
                          persona=requests[i].persona, tools=[by_name[i][n] for n in offered[i]])
            for i in pending], lambda i: SCHEMAS["outline"])
        out: list[Result[Outline]] = [o if isinstance(o, StageError) else StageError(reason="pending", message="")
                                      for o in offered]
        for i, text in zip(pending, texts):
            out[i] = text if isinstance(text, StageError) else Outline(text=text["outline"].strip(), plan=None,
                                                                       offered_tools=offered[i])
        return out

    def grammar_for(self, bundle_tools: Sequence[Tool], thoughts: bool) -> str:
        """The bundle's grammar: byte-identical for every request of the bundle."""
        key = (tuple(sorted(t.name for t in bundle_tools)), thoughts)
        if key not in self._grammars:
            if self.use_specialized_grammar and bundle_tools:
                from funcdex_assets.dml.specialize import bundle_grammar

                self._grammars[key] = bundle_grammar(list(bundle_tools), thoughts)
            else:
                self._grammars[key] = load_grammar(thoughts)
        return self._grammars[key]

    def conversations(self, requests: Sequence[ConversationRequest]) -> list[Result[str]]:
        stats = self.conversation_stats
        results: list[Result[str]] = [StageError(reason="pending", message="") for _ in requests]
        last_issues: dict[int, list[ValidationIssue]] = {}
        for attempt in range(self.max_regenerations + 1):
            todo = [i for i, r in enumerate(results) if isinstance(r, StageError)]
            if not todo:
                break
            if attempt:
                stats.regenerations += len(todo)
            chats = {i: self._conversation_request(requests[i], attempt) for i in todo}
            answers = dict(zip(todo, self.client.complete_many([chats[i] for i in todo])))
            stats.generated += len(todo)
            outcomes = {i: self._judge_answer(a, requests[i]) for i, a in answers.items()}
            self._check_constraint_applied(answers, outcomes)
            for repair in range(self.max_repairs + 1):
                failing = {}
                for i, answer in answers.items():
                    outcome = outcomes[i]
                    if isinstance(outcome, str):
                        results[i] = outcome
                        stats.repaired_ok += repair > 0
                    else:
                        results[i] = outcome[0]
                        last_issues[i] = outcome[1]
                        if outcome[1] and answer.text:
                            failing[i] = answer
                if not failing or repair == self.max_repairs:
                    break
                stats.repairs += len(failing)
                repair_chats = [self._repair_request(chats[i], failing[i].text or "", last_issues[i], requests[i], repair)
                                for i in failing]
                answers = dict(zip(failing, self.client.complete_many(repair_chats)))
                outcomes = {i: self._judge_answer(a, requests[i]) for i, a in answers.items()}
        for r in results:
            if isinstance(r, StageError):
                stats.failed += 1
                stats.reasons[r.reason] = stats.reasons.get(r.reason, 0) + 1
        return results

    def _conversation_request(self, r: ConversationRequest, attempt: int) -> ChatRequest:
        tools = tools_list(r.tools)
        messages = render_messages("conversation", scenario=r.scenario, persona=r.persona, outline=r.outline.text,
                                   tools_json=json.dumps(tools, indent=1, ensure_ascii=False),
                                   thoughts=r.include_thoughts, min_user_turns=r.min_user_turns)
        return ChatRequest(stage="conversation", messages=messages, sampling=self._sampling("conversation", r.seed + attempt),
                           constraint=Constraint("grammar", self.grammar_for(r.bundle_tools or r.tools, r.include_thoughts)))

    def _repair_request(self, original: ChatRequest, dml: str, issues: list[ValidationIssue],
                        r: ConversationRequest, round_no: int) -> ChatRequest:
        follow_up = render_messages("repair", issues=issues[:20])
        messages = original.messages + ({"role": "assistant", "content": dml},) + follow_up
        return ChatRequest(stage="repair", messages=messages, sampling=self._sampling("repair", r.seed + 1000 + round_no),
                           constraint=original.constraint)

    def _judge_answer(self, answer: ChatResult, r: ConversationRequest) -> str | tuple[StageError, list[ValidationIssue]]:
        """The DML when it validates, else the error plus the issues to send back."""
        if answer.error is not None:
            return StageError(reason=f"llm_{answer.error.reason}", message=answer.error.message), []
        text = answer.text or ""
        if answer.finish_reason == "length":
            return StageError(reason="truncated", text=text or None, message=(
                f"the model stopped at max_tokens ({self.sampling['conversation'].max_tokens}) before the "
                "conversation ended; raise the conversation max_tokens (--max-tokens conversation=N)")), []
        try:
            turns = parse_dml(text).turns
        except DMLParseError as exc:
            issue = ValidationIssue("unparseable", str(exc), exc.line, -1)
            return StageError(reason="unparseable", message=str(exc), text=text), [issue]
        tools = {t.name: t for t in r.tools}
        issues = validate_conversation(turns, tools, min_user_turns=r.min_user_turns, allow_thoughts=r.include_thoughts)
        if not issues:
            return text
        codes = sorted({i.code for i in issues})
        return StageError(reason=f"invalid_after_repair:{codes[0]}", text=text,
                          message="; ".join(i.message for i in issues[:10])), issues

    def _check_constraint_applied(self, answers: dict[int, ChatResult],
                                  outcomes: dict[int, str | tuple[StageError, list[ValidationIssue]]]) -> None:
        """Raise when answers that ended normally break what the grammar guarantees."""
        finished = [i for i, a in answers.items() if a.error is None and a.finish_reason == "stop" and a.text]
        broken = sum(1 for i in finished if not isinstance(outcomes[i], str)
                     and {x.code for x in outcomes[i][1]} & GRAMMAR_GUARANTEED)
        if broken >= 3 and broken * 2 >= len(finished):
            raise ConstraintIgnoredError(
                f"{broken} of {len(finished)} conversations from {self.client.description} break the DML grammar "
                "they were generated under: the server is not applying the grammar. vLLM >= 0.10.2 reads "
                "`structured_outputs`; for an older server send `guided_grammar` instead (`funcdex generate "
                "--grammar-field guided_grammar`, or FUNCDEX_LLM_GRAMMAR_FIELD=guided_grammar, or "
                "grammar_field='guided_grammar' on the LLM resource), and check the server was started with a "
                "structured-output backend (xgrammar).")

    def system_prompts(self, requests: Sequence[SystemPromptRequest]) -> list[Result[str]]:
        chats = [self._request("system_prompt", r.seed, SCHEMAS["system_prompt"], persona=r.persona,
                               toolkits=r.toolkits, today=r.today, scenario=r.scenario) for r in requests]
        return [d if isinstance(d, StageError) else d["system_prompt"].strip()
                for d in self._json_stage("system_prompt", chats, lambda i: SCHEMAS["system_prompt"])]

    def judge(self, requests: Sequence[JudgeRequest]) -> list[Result[JudgeScore]]:
        chats = [self._request("judge", r.seed, SCHEMAS["judge"], scenario=r.scenario, persona=r.persona,
                               tools=r.tools, dml=r.dml, findings=r.findings) for r in requests]
        out: list[Result[JudgeScore]] = []
        for d in self._json_stage("judge", chats, lambda i: SCHEMAS["judge"]):
            if isinstance(d, StageError):
                out.append(d)
                continue
            out.append(JudgeScore(
                user_query_clarity=d["user_query_clarity"]["score"], tool_use_quality=d["tool_use_quality"]["score"],
                reasons={axis: d[axis]["reason"] for axis in ("user_query_clarity", "tool_use_quality")}))
        return out


def _decode_json(stage: str, result: ChatResult, schema: dict[str, Any]) -> dict[str, Any] | StageError:
    if result.error is not None:
        return StageError(reason=f"llm_{result.error.reason}", message=result.error.message)
    if result.finish_reason == "length":
        return StageError(reason="truncated", message=(
            f"{stage}: the answer hit max_tokens before the JSON ended; raise it (--max-tokens {stage}=N)"))
    try:
        value = json.loads(result.text or "")
    except ValueError as exc:
        return StageError(reason="invalid_json", message=f"{stage}: the answer is not JSON ({exc}): {(result.text or '')[:200]!r}")
    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        return StageError(reason="schema_mismatch", message=f"{stage}: {errors[0].message} at {list(errors[0].path)}")
    return value
