"""The embedded offline backend end to end: plans, conversations, grounding, determinism."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from faker import Faker

from funcdex_assets.backends.base import ConversationRequest, Outline, OutlineRequest, Persona, StageError
from funcdex_assets.backends.offline import EmbeddedOfflineBackend
from funcdex_assets.catalog.fields import id_entity
from funcdex_assets.catalog.loader import load_catalog
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.model import AssistantTurn, ThoughtTurn, ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.dml.parser import parse_dml
from funcdex_assets.dml.validator import validate_conversation
from funcdex_assets.frames import ok
from funcdex_assets.offline.language import format_value
from funcdex_assets.offline.speech import spoken_date
from funcdex_assets.offline.planner import (
    MAX_DISTRACTORS,
    ConversationPlan,
    PlannedRequest,
    PlannedStep,
    offered_tools,
    outline_text,
    plan_conversation,
)
from funcdex_assets.offline.values import ValueFactory
from funcdex_assets.offline.writer import ConversationWriter, field_noun
from funcdex_assets.quality.grounding import GroundingStats, id_grounding
from funcdex_assets.stages.generation import (
    combinations_frame,
    conversations_frame,
    outlines_frame,
    personas_frame,
    scenarios_frame,
)
from funcdex_assets.stages.validation import validate_frame

STR = {"type": "string"}


# ---- a small hand-made bundle ----------------------------------------------------------------

def make_tool(toolkit: str, name: str, inputs: dict, required: tuple[str, ...], output: dict) -> Tool:
    return Tool(toolkit=toolkit, name=f"{toolkit.upper()}_{name}", original_name=name,
                description=name.lower().replace("_", " "),
                input_schema={"type": "object", "properties": inputs, "required": list(required)},
                output_schema=output)


def envelope(data_props: dict, data_required: tuple[str, ...] = ()) -> dict:
    return {"type": "object",
            "properties": {"successful": {"type": "boolean"}, "error": STR,
                           "data": {"type": "object", "properties": data_props, "required": list(data_required)}},
            "required": ["successful", "data"]}


TASK = {"type": "object", "properties": {
    "id": {"type": "string", "examples": ["7025549821"]},
    "content": STR,
    "project_id": {"type": "string", "examples": ["2203306141"]},
    "due_date": {"type": "string", "format": "date"},
    "priority": {"type": "integer", "minimum": 1, "maximum": 4},
    "status": {"type": "string", "enum": ["done", "open", "blocked"]},
    "url": {"type": "string", "format": "uri"},
}, "required": ["id", "content"]}
PROJECT = {"type": "object", "properties": {
    "id": {"type": "string", "examples": ["2203306141"]}, "name": STR, "color": STR}, "required": ["id", "name"]}


def mini_tools() -> list[Tool]:
    return [
        make_tool("tasks", "LIST_PROJECTS", {"limit": {"type": "integer", "minimum": 1, "maximum": 50}}, (),
                  envelope({"projects": {"type": "array", "items": PROJECT}}, ("projects",))),
        make_tool("tasks", "CREATE_PROJECT", {"name": {"type": "string", "description": "Name of the project."},
                                               "color": STR}, ("name",), envelope({"project": PROJECT}, ("project",))),
        make_tool("tasks", "CREATE_TASK", {
            "project_id": {"type": "string", "description": "ID of the project."},
            "content": {"type": "string", "description": "What the task is."},
            "due_date": {"type": "string", "format": "date"},
            "priority": {"type": "integer", "minimum": 1, "maximum": 4}},
            ("project_id", "content", "due_date"), envelope({"task": TASK}, ("task",))),
        make_tool("tasks", "GET_TASK", {"task_id": STR}, ("task_id",), envelope({"task": TASK}, ("task",))),
        make_tool("tasks", "UPDATE_TASK", {"task_id": STR, "content": STR,
                                           "priority": {"type": "integer", "minimum": 1, "maximum": 4}},
                  ("task_id", "content"), envelope({"task": TASK}, ("task",))),
        make_tool("tasks", "LIST_TASKS", {"project_id": STR, "query": STR}, ("project_id",),
                  envelope({"tasks": {"type": "array", "items": TASK}}, ("tasks",))),
        make_tool("tasks", "CLOSE_TASK", {"task_id": STR}, ("task_id",),
                  envelope({"task_id": STR, "closed": {"type": "boolean"}}, ("task_id", "closed"))),
        make_tool("mail", "SEND_EMAIL", {"recipient_email": {"type": "string", "format": "email"},
                                         "subject": STR, "body": STR}, ("recipient_email", "subject", "body"),
                  envelope({"id": {"type": "string", "examples": ["18c2f9ab31d4e7a0"]},
                            "threadId": {"type": "string", "examples": ["18c2f9ab31d4e7a0"]},
                            "labelIds": {"type": "array", "items": STR}}, ("id", "threadId"))),
    ]


TOOLS = mini_tools()
BY_NAME = {t.name: t for t in TOOLS}
TOOLKITS = ["mail", "tasks"]


def persona(clarity: str = "good") -> Persona:
    return Persona(name="Ana Ruiz", first_name="Ana", role="a project manager", company="Acme Corp",
                   email="ana.ruiz@acme.com", tone="friendly", clarity=clarity, timezone="Europe/Berlin",
                   background="Ana runs projects.")


@dataclass
class Run:
    outlines: pl.DataFrame
    conversations: pl.DataFrame
    validated: pl.DataFrame


def run_stages(tools: list[Tool], bundle: str, n: int, seed: int, include_thoughts: bool,
               backend: EmbeddedOfflineBackend | None = None) -> Run:
    backend = backend or EmbeddedOfflineBackend()
    toolkits = sorted({t.toolkit for t in tools})
    combos = combinations_frame(tools, bundle, n, seed)
    scenarios = scenarios_frame(combos, tools, backend, seed, bundle)
    personas = personas_frame(scenarios, backend, seed, bundle, toolkits)
    outlines = outlines_frame(personas, scenarios, combos, tools, backend, seed, bundle, include_thoughts)
    conversations = conversations_frame(outlines, personas, scenarios, tools, backend, seed, bundle, toolkits)
    validated = validate_frame(conversations, tools, min_user_turns=1, include_thoughts=include_thoughts)
    return Run(outlines, conversations, validated)


@pytest.fixture(scope="module")
def mini_run() -> Run:
    return run_stages(TOOLS, "mini", 30, seed=1, include_thoughts=True)


def conversations_with_plans(run: Run) -> list[tuple[list[Any], ConversationPlan]]:
    plans = {r["outline_id"]: ConversationPlan.model_validate_json(r["plan"])
             for r in run.outlines.iter_rows(named=True)}
    return [(list(parse_dml(r["dml"]).turns), plans[r["outline_id"]])
            for r in run.conversations.iter_rows(named=True)]


# ---- checks shared by the small bundle and the shipped catalog ---------------------------------

def calls_answered(turns: list[Any]) -> bool:
    """Every call (or parallel group of calls) is followed at once by as many responses."""
    pending = answered = 0
    for turn in turns:
        if isinstance(turn, ToolCallTurn):
            if answered:
                pending = answered = 0
            pending += 1
        elif isinstance(turn, ToolResponseTurn):
            answered += 1
            if answered > pending:
                return False
        else:
            if answered != pending:
                return False
            pending = answered = 0
    return answered == pending


def response_ids(value: Any, out: set[str]) -> set[str]:
    """Values of id-named fields anywhere in a tool response."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if isinstance(sub, dict) or (isinstance(sub, list) and any(isinstance(x, (dict, list)) for x in sub)):
                response_ids(sub, out)
            elif id_entity(key) is not None:
                for item in sub if isinstance(sub, list) else [sub]:
                    if item is not None and not isinstance(item, bool):
                        out.add(str(item))
    elif isinstance(value, list):
        for item in value:
            response_ids(item, out)
    return out


def leaked_ids(turns: list[Any]) -> list[tuple[int, str]]:
    """(user turn index, id) for ids a user states before anything showed them."""
    ids: set[str] = set()
    for turn in turns:
        if isinstance(turn, ToolResponseTurn):
            response_ids(turn.content, ids)
    ids = {i for i in ids if len(i) >= 5}
    shown: list[str] = []
    leaks = []
    for index, turn in enumerate(turns):
        if isinstance(turn, UserTurn):
            seen = "\n".join(shown)
            leaks.extend((index, i) for i in sorted(ids) if i in turn.text and i not in seen)
        elif isinstance(turn, AssistantTurn):
            shown.append(turn.text)
        elif isinstance(turn, ToolResponseTurn):
            shown.append(json.dumps(turn.content, ensure_ascii=False))
    return leaks


def scalars_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(scalars_of(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(scalars_of(v) for v in value)) if value else set()
    return set() if value is None or isinstance(value, bool) else {str(value)}


# ---- the small bundle ------------------------------------------------------------------------

def test_every_conversation_parses_and_validates(mini_run: Run) -> None:
    assert mini_run.conversations.height == 30
    assert (mini_run.conversations["status"] == "ok").all()
    for row in mini_run.conversations.iter_rows(named=True):
        turns = parse_dml(row["dml"]).turns
        issues = validate_conversation(turns, BY_NAME, min_user_turns=1, allow_thoughts=True)
        assert issues == [], (issues, row["dml"])
    assert ok(mini_run.validated).height == 30
    assert any(isinstance(t, ThoughtTurn) for turns, _ in conversations_with_plans(mini_run) for t in turns)


def call_steps(plan: ConversationPlan, turns: list[Any]) -> list[int]:
    """The plan step of every call turn, in order, checking the calls are the plan's: none for a
    declined step, a failed attempt before the retry, one per copy, one per listed item."""
    names = [t.name for t in turns if isinstance(t, ToolCallTurn)]
    # The answer to each call (a parallel call's answers follow all its calls, in order).
    answers = [t.content for t in turns if isinstance(t, ToolResponseTurn)]
    out: list[int] = []
    for i, step in enumerate(plan.steps):
        if step.confirm == "decline":
            continue
        retried = step.failure not in (None, "permission_denied") or (
            # A refusal the writer found implausible (what the call acts on is the user's own)
            # becomes a rate limit, retried.
            step.failure == "permission_denied" and len(out) < len(answers) and "429" in str(answers[len(out)]))
        n = 1 + len(step.copies) + int(retried)
        if not step.copies and not step.each and (len(out) >= len(names) or names[len(out)] != step.tool) \
                and step.tool in names[:len(out)]:
            # Asked again for what an earlier call just did, with nothing changed since: the
            # assistant says so and makes no call (repeated_call).
            continue
        if step.each:
            n = 0
            while len(out) + n < len(names) and names[len(out) + n] == step.tool:
                n += 1
            assert n >= 1, (step.tool, names)
        assert names[len(out):len(out) + n] == [step.tool] * n, (i, step.tool, names)
        out.extend([i] * n)
    assert len(out) == len(names), names
    return out


def test_calls_follow_the_plan_and_are_answered(mini_run: Run) -> None:
    for turns, plan in conversations_with_plans(mini_run):
        call_steps(plan, turns)
        assert calls_answered(turns)
        assert isinstance(turns[0], UserTurn) and isinstance(turns[-1], AssistantTurn)


def test_ids_in_later_calls_come_from_earlier_responses(mini_run: Run) -> None:
    total = GroundingStats()
    grounded_steps = 0
    for turns, plan in conversations_with_plans(mini_run):
        total.add(id_grounding(turns, BY_NAME))
        seen: set[str] = set()
        steps = iter(call_steps(plan, turns))
        for turn in turns:
            if isinstance(turn, ToolResponseTurn):
                seen |= scalars_of(turn.content)
            elif isinstance(turn, ToolCallTurn):
                for arg in plan.steps[next(steps)].grounded:
                    grounded_steps += 1
                    assert arg in turn.arguments, (turn.name, arg)
                    value = turn.arguments[arg]
                    for item in value if isinstance(value, list) else [value]:
                        assert str(item) in seen, (turn.name, arg, item)
    assert grounded_steps >= 10
    assert total.id_arguments >= 10
    assert total.grounded == total.id_arguments, total.ungrounded


def test_users_never_state_ids_they_were_not_shown(mini_run: Run) -> None:
    leaks = []
    for turns, _ in conversations_with_plans(mini_run):
        leaks.extend((turns[i].text, value) for i, value in leaked_ids(turns))
    assert not leaks


def test_leak_check_catches_a_leak() -> None:
    turns = [UserTurn(text="Close task 7025549821 please."),
             ToolCallTurn(name="TASKS_CLOSE_TASK", arguments={"task_id": "7025549821"}),
             ToolResponseTurn(content={"data": {"task_id": "7025549821", "closed": True}}),
             AssistantTurn(text="Done.")]
    assert leaked_ids(turns) == [(0, "7025549821")]


def test_user_turns_match_segments_clarifications_and_closing(mini_run: Run) -> None:
    with_clarify = 0
    for turns, plan in conversations_with_plans(mini_run):
        user_turns = [i for i, t in enumerate(turns) if isinstance(t, UserTurn)]
        clarified = [s for s in plan.steps if s.clarify]
        with_clarify += bool(clarified)
        asked = sum(s.confirm != "none" for s in plan.steps) + sum(
            s.failure in ("not_found", "conflict", "validation_error") for s in plan.steps)
        planned = len(plan.requests) + len(clarified) + asked + int(plan.closing)
        # Plus one answer per "which one?" the assistant asks about a list's candidates.
        assert planned <= len(user_turns) <= planned + sum(bool(s.grounded) for s in plan.steps)
    assert with_clarify >= 1


def test_clarification_is_asked_and_answered_before_the_call(mini_run: Run) -> None:
    checked = 0
    for turns, plan in conversations_with_plans(mini_run):
        call_at = [i for i, t in enumerate(turns) if isinstance(t, ToolCallTurn)]
        first_call = {}
        for at, step_no in zip(call_at, call_steps(plan, turns)):
            first_call.setdefault(step_no, at)
        for step_no, step in enumerate(plan.steps):
            if not step.clarify:
                continue
            checked += 1
            _check_clarification(turns, first_call[step_no], step.clarify, step.user_args)
    assert checked >= 1


def _check_clarification(turns: list[Any], call: int, clarify: list[str], user_args: dict[str, Any]) -> None:
    answer = max(i for i in range(call) if isinstance(turns[i], UserTurn))
    question = answer - 1
    assert isinstance(turns[question], AssistantTurn), turns[question]
    assert all(field_noun(name) in turns[question].text for name in clarify)
    for name in clarify:
        value = user_args[name]
        # Said the way a person says it: a date in words, other values as they are.
        spoken = spoken_date(value) if isinstance(value, str) and spoken_date(value) else format_value(value)
        assert spoken.strip('"') in turns[answer].text
        assert turns[call].arguments[name] == value
        if isinstance(value, str) and len(value) >= 8:
            # Left out of the request: the user states it only when asked.
            assert not any(isinstance(t, UserTurn) and value in t.text for t in turns[:question])
    # Between the answer and the call the assistant only thinks or talks.
    assert all(isinstance(t, (AssistantTurn, ThoughtTurn)) for t in turns[answer + 1:call])


def _outline(backend: EmbeddedOfflineBackend, chain: list[Tool], clarity: str, seed: int,
             thoughts: bool = False) -> Outline:
    (outline,) = backend.outlines([OutlineRequest(
        bundle="mini", scenario="Ana sets up a project.", persona=persona(clarity), tools=chain, links=[],
        bundle_tools=TOOLS, include_thoughts=thoughts, seed=seed)])
    assert isinstance(outline, Outline)
    return outline


def _conversation(backend: EmbeddedOfflineBackend, outline: Outline, seed: int, clarity: str = "excellent",
                  thoughts: bool = False) -> str:
    (dml,) = backend.conversations([ConversationRequest(
        bundle="mini", scenario="Ana sets up a project.", persona=persona(clarity), outline=outline,
        tools=TOOLS, include_thoughts=thoughts, seed=seed)])
    assert isinstance(dml, str), dml
    return dml


def test_forced_clarification_appears() -> None:
    backend = EmbeddedOfflineBackend()
    chain = [BY_NAME["TASKS_CREATE_PROJECT"], BY_NAME["TASKS_CREATE_TASK"]]
    outline = _outline(backend, chain, "excellent", seed=3)
    plan = ConversationPlan.model_validate(outline.plan)
    assert all(not s.clarify for s in plan.steps)  # excellent users never forget
    plain = list(parse_dml(_conversation(backend, outline, seed=9)).turns)

    plan.steps[1].clarify = ["content"]
    asked = outline.model_copy(update={"plan": plan.model_dump()})
    turns = list(parse_dml(_conversation(backend, asked, seed=9)).turns)
    assert validate_conversation(turns, BY_NAME) == []
    assert sum(isinstance(t, UserTurn) for t in turns) == sum(isinstance(t, UserTurn) for t in plain) + 1
    call_at = [i for i, t in enumerate(turns) if isinstance(t, ToolCallTurn)]
    _check_clarification(turns, call_at[1], ["content"], plan.steps[1].user_args)


def test_same_seed_same_dml_different_seed_different_dml(mini_run: Run) -> None:
    again = run_stages(TOOLS, "mini", 30, seed=1, include_thoughts=True)
    assert again.conversations["dml"].to_list() == mini_run.conversations["dml"].to_list()
    assert again.outlines["plan"].to_list() == mini_run.outlines["plan"].to_list()
    other = run_stages(TOOLS, "mini", 30, seed=2, include_thoughts=True)
    mine, theirs = mini_run.conversations["dml"].to_list(), other.conversations["dml"].to_list()
    assert mine != theirs
    assert len(set(mine) & set(theirs)) <= 3


def test_conversation_does_not_depend_on_the_batch() -> None:
    backend = EmbeddedOfflineBackend()
    chain = [BY_NAME["TASKS_LIST_PROJECTS"], BY_NAME["TASKS_CREATE_TASK"], BY_NAME["TASKS_CLOSE_TASK"]]
    outline = _outline(backend, chain, "good", seed=4)
    requests = [ConversationRequest(bundle="mini", scenario="s", persona=persona(), outline=outline, tools=TOOLS,
                                    include_thoughts=False, seed=seed) for seed in (10, 11)]
    both = backend.conversations(requests)
    assert EmbeddedOfflineBackend().conversations(requests[1:]) == both[1:]
    assert both[0] != both[1]


def test_conversations_without_thoughts_have_none() -> None:
    run = run_stages(TOOLS, "mini", 10, seed=5, include_thoughts=False)
    assert ok(run.validated).height == 10
    for row in run.conversations.iter_rows(named=True):
        assert not any(isinstance(t, ThoughtTurn) for t in parse_dml(row["dml"]).turns)


def test_conversation_stage_errors() -> None:
    backend = EmbeddedOfflineBackend()
    outline = _outline(backend, [BY_NAME["TASKS_CREATE_PROJECT"]], "good", seed=1)
    no_plan = outline.model_copy(update={"plan": None})
    (result,) = backend.conversations([ConversationRequest(
        bundle="mini", scenario="s", persona=persona(), outline=no_plan, tools=TOOLS, include_thoughts=False, seed=1)])
    assert isinstance(result, StageError) and result.reason == "no_plan"
    (result,) = backend.conversations([ConversationRequest(
        bundle="mini", scenario="s", persona=persona(), outline=outline,
        tools=[t for t in TOOLS if t.name != "TASKS_CREATE_PROJECT"], include_thoughts=False, seed=1)])
    assert isinstance(result, StageError) and result.reason == "plan_tool_missing"
    assert "TASKS_CREATE_PROJECT" in result.message


def test_reused_value_respects_argument_bounds() -> None:
    get_doc = make_tool("docs", "GET_DOCUMENT", {"title": STR}, (), {
        "type": "object", "properties": {"documentId": STR, "columns": {"type": "integer", "enum": [52]}},
        "required": ["documentId", "columns"]})
    insert = make_tool("docs", "INSERT_TABLE", {
        "document_id": STR, "columns": {"type": "integer", "minimum": 1, "maximum": 20}},
        ("document_id", "columns"), {"type": "object", "properties": {"ok": {"type": "boolean"}}})
    tools = {t.name: t for t in (get_doc, insert)}
    plan = ConversationPlan(today="2026-03-02", clarity="excellent", requests=[PlannedRequest(groups=[[0], [1]])], closing=False,
                            thoughts=False, steps=[
        PlannedStep(tool="DOCS_GET_DOCUMENT", user_args={"title": "Roadmap"}, clarify=[], defaults={},
                    grounded={}, reuse={}),
        PlannedStep(tool="DOCS_INSERT_TABLE", user_args={"columns": 3}, clarify=[], defaults={},
                    grounded={"document_id": "document_id"}, reuse={"columns": "columns"})])
    turns = ConversationWriter(plan, tools, persona("excellent"), "s", _values(0)).write()
    calls = [t for t in turns if isinstance(t, ToolCallTurn)]
    responses = [t for t in turns if isinstance(t, ToolResponseTurn)]
    assert calls[1].arguments["document_id"] == responses[0].content["documentId"]  # grounded as planned
    assert validate_conversation(turns, tools) == []


def test_summary_verb_of_noun_first_tool_names() -> None:
    events_list = make_tool("cal", "EVENTS_LIST", {"q": STR}, (), envelope(
        {"events": {"type": "array", "items": {"type": "object", "properties": {
            "id": STR, "summary": STR}, "required": ["id", "summary"]}}}, ("events",)))
    backend = EmbeddedOfflineBackend()
    (outline,) = backend.outlines([OutlineRequest(
        bundle="cal", scenario="s", persona=persona("excellent"), tools=[events_list], links=[],
        bundle_tools=[events_list], include_thoughts=False, seed=1)])
    (dml,) = backend.conversations([ConversationRequest(
        bundle="cal", scenario="s", persona=persona("excellent"), outline=outline, tools=[events_list],
        include_thoughts=False, seed=1)])
    assert "eventsed" not in dml


# ---- planner ---------------------------------------------------------------------------------

def _values(seed: int) -> ValueFactory:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    from datetime import datetime, timezone

    return ValueFactory(random.Random(seed), fake, datetime(2026, 3, 2, 9, tzinfo=timezone.utc))


def test_plan_grounds_ids_on_earlier_producers_only() -> None:
    calendar = make_tool("cal", "GET_CALENDAR", {"calendarId": {"type": "string", "default": "primary"},
                                                 "projectId": STR}, ("calendarId",),
                         {"type": "object", "properties": {"id": STR}})
    chain = [BY_NAME["TASKS_LIST_PROJECTS"], BY_NAME["TASKS_CREATE_TASK"], BY_NAME["TASKS_GET_TASK"],
             BY_NAME["TASKS_CLOSE_TASK"]]
    for seed in range(20):
        plan = plan_conversation(chain + [calendar], persona("average"), _values(seed), "2026-03-02", False)
        assert [s.tool for s in plan.steps] == [t.name for t in chain] + ["CAL_GET_CALENDAR"]
        assert plan.steps[0].grounded == {}
        assert plan.steps[1].grounded == {"project_id": "project_id"}
        assert plan.steps[2].grounded == {"task_id": "task_id"}
        assert plan.steps[3].grounded == {"task_id": "task_id"}
        # A required id with a documented default uses it; an optional one the user cannot know is left
        # out unless something produced it (projectId: LIST_PROJECTS did).
        assert plan.steps[4].defaults == {"calendarId": "primary"}
        assert "calendarId" not in plan.steps[4].user_args
        assert "projectId" not in plan.steps[4].user_args
        for step in plan.steps:
            assert not {"project_id", "task_id"} & set(step.user_args)
            assert set(step.clarify) <= set(step.user_args)
        assert set(plan.steps[1].user_args) >= {"content", "due_date"}
        assert [i for seg in plan.segments for i in seg] == list(range(len(plan.steps)))
        assert all(seg for seg in plan.segments)


def test_ids_inside_lists_of_objects_come_from_the_price_made_or_are_stated(repo_root: Path) -> None:
    # STRIPE_CREATE_SUBSCRIPTION's items[].price is an id no user makes up: after CREATE_PRICE the
    # call takes that price; after a list (several prices) the user states the ones they mean.
    stripe = {t.original_name: t for t in load_catalog(repo_root / "tool_catalog").bundle_tools("stripe")}
    backend = EmbeddedOfflineBackend()
    made = [stripe[n] for n in ("CREATE_CUSTOMER", "CREATE_PRODUCT", "CREATE_PRICE", "CREATE_SUBSCRIPTION")]
    listed = [stripe[n] for n in ("CREATE_CUSTOMER", "LIST_PRICES", "CREATE_SUBSCRIPTION")]
    for seed in range(6):
        plan = plan_conversation(made, persona("excellent"), _values(seed), "2026-03-02", False)
        step = plan.steps[3]
        assert step.nested == {"items": {"price": "price_id"}} and step.sources["items[].price"] == 2
        assert all("price" not in item for item in step.user_args["items"])
        plan = plan_conversation(listed, persona("excellent"), _values(seed), "2026-03-02", False)
        assert plan.steps[2].nested == {}
        for chain in (made, listed):
            (outline,) = backend.outlines([OutlineRequest(
                bundle="stripe", scenario="s", persona=persona("excellent"), tools=chain, links=[],
                bundle_tools=list(stripe.values()), include_thoughts=False, seed=seed)])
            (dml,) = backend.conversations([ConversationRequest(
                bundle="stripe", scenario="s", persona=persona("excellent"), outline=outline, tools=chain,
                include_thoughts=False, seed=seed)])
            turns = list(parse_dml(dml).turns)
            said = "\n".join(t.text for t in turns if isinstance(t, UserTurn))
            for k, turn in enumerate(turns):
                if isinstance(turn, ToolCallTurn) and turn.name.endswith("CREATE_SUBSCRIPTION"):
                    before = json.dumps([t.content for t in turns[:k] if isinstance(t, ToolResponseTurn)])
                    for item in turn.arguments["items"]:
                        assert (item["price"] in before) if chain is made else (item["price"] in said), item


def test_plan_clarifications_follow_clarity() -> None:
    chain = [BY_NAME["TASKS_CREATE_PROJECT"], BY_NAME["MAIL_SEND_EMAIL"]]
    excellent = [plan_conversation(chain, persona("excellent"), _values(s), "2026-03-02", False) for s in range(30)]
    assert not any(step.clarify for plan in excellent for step in plan.steps)
    average = [plan_conversation(chain, persona("average"), _values(s), "2026-03-02", False) for s in range(30)]
    asked = [step for plan in average for step in plan.steps if step.clarify]
    assert asked
    required = {"TASKS_CREATE_PROJECT": {"name"}, "MAIL_SEND_EMAIL": {"recipient_email", "subject", "body"}}
    for step in asked:
        assert set(step.clarify) <= required[step.tool]
        assert 1 <= len(step.clarify) <= 2


def test_offered_tools_and_outline_text() -> None:
    chain = [BY_NAME["TASKS_LIST_PROJECTS"], BY_NAME["TASKS_CREATE_TASK"]]
    for seed in range(10):
        offered = offered_tools(chain, TOOLS, random.Random(seed))
        assert offered == sorted(offered)
        assert {t.name for t in chain} <= set(offered) <= set(BY_NAME)
        assert 1 <= len(offered) - len(chain) <= MAX_DISTRACTORS
    assert offered_tools(chain, chain, random.Random(0)) == sorted(t.name for t in chain)
    plan = plan_conversation(chain, persona("good"), _values(1), "2026-03-02", False)
    plan.steps[1].clarify = ["content"]
    text = outline_text(plan, chain, persona("good"))
    assert text.startswith("Persona: Ana Ruiz")
    assert all(t.name in text for t in chain)
    assert "asks for the content" in text
    assert "taking project id from earlier results" in text


# ---- the shipped catalog ---------------------------------------------------------------------

CATALOG_SEED = 4
PER_BUNDLE = 8


@dataclass
class CatalogRun:
    bundle: str
    tools: dict[str, Tool]
    run: Run


@lru_cache(maxsize=1)
def _catalog_runs(catalog_dir: Path) -> tuple[CatalogRun, ...]:
    """Generated once per session: several tests look at the same conversations."""
    catalog = load_catalog(catalog_dir)
    backend = EmbeddedOfflineBackend()
    runs = []
    for index, bundle in enumerate(catalog.bundles):
        tools = list(catalog.bundle_tools(bundle.name))
        run = run_stages(tools, bundle.name, PER_BUNDLE, seed=CATALOG_SEED, include_thoughts=index % 2 == 0,
                         backend=backend)
        runs.append(CatalogRun(bundle.name, {t.name: t for t in tools}, run))
    return tuple(runs)


@pytest.fixture
def catalog_runs(repo_root: Path) -> tuple[CatalogRun, ...]:
    return _catalog_runs(repo_root / "tool_catalog")


def test_catalog_has_every_bundle(catalog_runs: tuple[CatalogRun, ...], repo_root: Path) -> None:
    assert [r.bundle for r in catalog_runs] == [b.name for b in load_catalog(repo_root / "tool_catalog").bundles]
    assert len(catalog_runs) >= 10


def test_every_catalog_bundle_calls_answered_and_ids_grounded(catalog_runs: tuple[CatalogRun, ...]) -> None:
    total = GroundingStats()
    problems: dict[str, list[str]] = {}
    for cr in catalog_runs:
        run = cr.run
        found: list[str] = []
        if run.conversations.height != PER_BUNDLE or not (run.conversations["status"] == "ok").all():
            found.append(f"{run.conversations.height} conversations written, wanted {PER_BUNDLE}")
        plans = {r["outline_id"]: ConversationPlan.model_validate_json(r["plan"])
                 for r in run.outlines.iter_rows(named=True)}
        for row in run.conversations.iter_rows(named=True):
            turns = list(parse_dml(row["dml"]).turns)
            calls = [t for t in turns if isinstance(t, ToolCallTurn)]
            try:
                call_steps(plans[row["outline_id"]], turns)
                follows = True
            except AssertionError as exc:
                follows = False
                found.append(f"{row['conversation_id']}: calls {[c.name for c in calls]} do not follow the plan ({exc})")
            if follows and (not calls or not calls_answered(turns)):
                found.append(f"{row['conversation_id']}: calls {[c.name for c in calls]} not all answered")
            for i, value in leaked_ids(turns):
                found.append(f"{row['conversation_id']}: user turn {i} states unseen id {value}")
            total.add(id_grounding(turns, cr.tools))
        if found:
            problems[cr.bundle] = found[:5]
    assert not problems
    assert total.id_arguments >= 50
    assert total.rate >= 0.9, total.ungrounded[:10]


def test_every_catalog_bundle_validates(catalog_runs: tuple[CatalogRun, ...]) -> None:
    problems = {}
    for cr in catalog_runs:
        validated = cr.run.validated
        bad = validated.filter(pl.col("status") != "ok")
        if validated.height != PER_BUNDLE or bad.height:
            problems[cr.bundle] = [f"{r['status']}: {r['reject_reason']}" for r in bad.iter_rows(named=True)][:5]
    assert not problems


def test_the_closing_names_the_user_only_once_they_said_their_name_as_a_word() -> None:
    from funcdex_assets.offline.planner import ConversationPlan, PlannedRequest, PlannedStep
    from funcdex_assets.offline.values import ValueFactory, make_today
    from funcdex_assets.offline.writer import ConversationWriter

    tool = Tool(toolkit="crm", name="CRM_CREATE_CUSTOMER", original_name="CRM_CREATE_CUSTOMER",
                description="Create a customer.", input_schema={"type": "object", "properties": {
                    "city": {"type": "string"}}, "required": ["city"]},
                output_schema={"type": "object", "properties": {"id": {"type": "string"}}})
    persona = Persona(name="Michael Keller", first_name="Michael", role="a patent examiner", company="Mason",
                      email="m@mason.io", tone="friendly", clarity="excellent", timezone="UTC", background="-")
    named_closings = 0
    for seed in range(40):
        rng = random.Random(seed)
        values = ValueFactory(rng, Faker(), make_today(rng))
        plan = ConversationPlan(today="2026-03-02", clarity="excellent", requests=[PlannedRequest(groups=[[0]])], closing=True, thoughts=False,
                                steps=[PlannedStep(tool=tool.name, user_args={"city": "New Michaelport"}, clarify=[],
                                                   defaults={}, grounded={}, reuse={})])
        turns = ConversationWriter(plan, {tool.name: tool}, persona, "-", values).write()
        # Introduced by their name or first name ("Michael Keller here", "Michael from Mason").
        introduced = any(isinstance(t, UserTurn) and re.search(r"\bMichael\b", t.text) for t in turns)
        closing = turns[-1].text
        if not introduced:
            assert "Michael" not in closing, (seed, closing)
        named_closings += "Michael" in closing
    assert named_closings >= 1  # when the greeting gave the name, the closing may use it


def test_thoughts_reason_about_the_call_at_hand() -> None:
    # Before a call grounded on something just created, the thought says where its id comes
    # from and gives the id; fixed lines that fit any call are not reasoning.
    backend = EmbeddedOfflineBackend()
    chain = [BY_NAME["TASKS_CREATE_PROJECT"], BY_NAME["TASKS_CREATE_TASK"]]
    seen = 0
    for seed in range(6):
        outline = _outline(backend, chain, "excellent", seed=seed, thoughts=True)
        turns = list(parse_dml(_conversation(backend, outline, seed=seed, thoughts=True)).turns)
        calls = [i for i, t in enumerate(turns) if isinstance(t, ToolCallTurn) and t.name == "TASKS_CREATE_TASK"]
        for i in calls[:1]:  # (a retry's thought is about the failure it retries)
            thought = next((t for t in reversed(turns[:i]) if isinstance(t, ThoughtTurn)), None)
            project = turns[i].arguments.get("project_id")
            if thought is None or project is None or i - 1 > 0 and isinstance(turns[i - 1], ToolCallTurn):
                continue
            seen += 1
            assert "TASKS_CREATE_TASK" in thought.text, thought.text
            assert str(project) in thought.text, (project, thought.text)
    assert seen, "no grounded call with a thought before it"


def test_a_required_value_nobody_gave_is_asked_for_not_skipped() -> None:
    """A step whose plan lost a required value (an event's `start` that came out empty) was
    written as "I couldn't create an event: the search came back empty" with no search in
    sight; the assistant asks for it and the call carries the answer."""
    create = make_tool("cal", "CREATE_EVENT", {"summary": STR, "start": STR}, ("summary", "start"),
                       {"type": "object", "properties": {"id": STR, "summary": STR}, "required": ["id"]})
    plan = ConversationPlan(today="2026-03-02", clarity="excellent", requests=[PlannedRequest(groups=[[0]])],
                            closing=False, thoughts=False, steps=[
        PlannedStep(tool="CAL_CREATE_EVENT", user_args={"summary": "Q3 sync"}, clarify=[], defaults={},
                    grounded={}, reuse={})])
    turns = ConversationWriter(plan, {create.name: create}, persona("excellent"), "s", _values(0)).write()
    calls = [t for t in turns if isinstance(t, ToolCallTurn)]
    texts = " ".join(t.text for t in turns if isinstance(t, (AssistantTurn, UserTurn)))
    assert len(calls) == 1 and calls[0].arguments.get("start") and "came back empty" not in texts
    assert validate_conversation(turns, {create.name: create}) == []


def test_a_summary_says_what_an_unnamed_object_is() -> None:
    """"I retrieved the phone number (ID 2268...)" tells the user nothing they asked for; the
    number does."""
    get = make_tool("wa", "GET_PHONE_NUMBER", {"phone_number_id": STR}, ("phone_number_id",), {
        "type": "object", "properties": {"phone_number": {"type": "object", "properties": {
            "id": STR, "display_phone_number": {"type": "string", "description": "The number, e.g. +16221372926"}},
            "required": ["id", "display_phone_number"]}}, "required": ["phone_number"]})
    plan = ConversationPlan(today="2026-03-02", clarity="excellent", requests=[PlannedRequest(groups=[[0]])],
                            closing=False, thoughts=False, steps=[
        PlannedStep(tool="WA_GET_PHONE_NUMBER", user_args={"phone_number_id": "226833475704583"}, clarify=[],
                    defaults={}, grounded={}, reuse={})])
    turns = ConversationWriter(plan, {get.name: get}, persona("excellent"), "s", _values(0)).write()
    number = next(t for t in turns if isinstance(t, ToolResponseTurn)).content["phone_number"]["display_phone_number"]
    assert number in turns[-1].text, turns[-1].text


def test_an_injected_error_has_a_premise_the_conversation_allows(repo_root, monkeypatch) -> None:
    """Seen: a 403 on the document the user had just made ("The owner would have to do it"),
    and "409: a location named 'Alone update' already exists" for a sent location."""
    from funcdex_assets.offline import planner

    monkeypatch.setattr(planner, "FAILURE_RATE", 1.0)
    tools = {t.original_name: t for t in load_catalog(repo_root / "tool_catalog").tools}
    made_then_edited = [tools["CREATE_DOCUMENT"], tools["INSERT_TEXT"]]
    sent = [tools["GET_PHONE_NUMBERS"], tools["SEND_LOCATION"]]
    labelled = [tools["CREATE_LABEL"], tools["LIST_LABELS"]]
    kinds = set()
    for seed in range(40):
        plan = plan_conversation(made_then_edited, persona("excellent"), _values(seed), "2026-03-02", False)
        assert plan.steps[1].failure != "permission_denied", seed
        assert plan.steps[0].failure != "conflict", seed  # two documents may share a title
        plan = plan_conversation(sent, persona("excellent"), _values(seed), "2026-03-02", False)
        assert all(s.failure != "conflict" for s in plan.steps), seed
        kinds.add(plan_conversation(labelled, persona("excellent"), _values(seed), "2026-03-02", False).steps[0].failure)
    assert "conflict" in kinds  # a Gmail label's name can be taken


def test_the_assistant_says_a_request_back_to_the_user_and_names_fields_as_people_do() -> None:
    """"I can't get me a coffee" echoed the user's words; "Which end index would you like?"
    asked for an API field."""
    from funcdex_assets.offline.writer import _addressed, field_noun

    assert _addressed("get me a coffee") == "get you a coffee"
    assert _addressed("renew my passport online") == "renew your passport online"
    assert _addressed("look up the score of last night's game") == "look up the score of last night's game"
    assert [field_noun(k) for k in ("end_index", "jql", "replace_text", "summary")] == [
        "end position", "JQL query", "new text", "title"]


def test_a_summary_of_a_container_names_what_it_holds() -> None:
    """"I fetched the thread (ID ...)" left the user to name "Red plan" from a result they never
    saw (unseen_reference); the summary says the thread's messages."""
    fetch = make_tool("mail", "FETCH_THREAD", {"thread_id": STR}, ("thread_id",), {
        "type": "object", "properties": {"thread": {"type": "object", "properties": {
            "id": STR, "messages": {"type": "array", "minItems": 2, "maxItems": 2, "items": {
                "type": "object", "properties": {"id": STR, "subject": STR}, "required": ["id", "subject"]}}},
            "required": ["id", "messages"]}}, "required": ["thread"]})
    plan = ConversationPlan(today="2026-03-02", clarity="excellent", requests=[PlannedRequest(groups=[[0]])],
                            closing=False, thoughts=False, steps=[
        PlannedStep(tool="MAIL_FETCH_THREAD", user_args={"thread_id": "23w0t2c6l2i4r1q5"}, clarify=[],
                    defaults={}, grounded={}, reuse={})])
    turns = ConversationWriter(plan, {fetch.name: fetch}, persona("excellent"), "s", _values(0)).write()
    messages = next(t for t in turns if isinstance(t, ToolResponseTurn)).content["thread"]["messages"]
    assert all(m["subject"] in turns[-1].text for m in messages), turns[-1].text


def test_a_word_is_said_once_where_two_phrases_meet() -> None:
    """"send the interactive buttons buttons "Yes"": a request phrase ending in the word its
    first value's phrasing starts with (doubled_word)."""
    from funcdex_assets.offline.writer import _once

    assert _once('Send the interactive buttons buttons "Yes" and "No".') == 'Send the interactive buttons "Yes" and "No".'
    assert _once('cool cool, and "Sync sync" stays') == 'cool cool, and "Sync sync" stays'
