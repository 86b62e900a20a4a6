"""Dataset figures computed from the exported JSONL alone (what a consumer of the files sees).

Independent of how the rows were produced: every row must decode and have TRL structure
(`structure_problems`; a row that does not is unreadable, named with what to fix, and counts in
no other figure), every tool-call argument object is validated against the `tools` schema
offered in the same row, every call must be answered by a tool message with its id, and
id-like arguments after a row's first call are checked against the values of earlier tool
results. A figure with nothing to count over is None ("n/a"), never 100%. `shape_files` gives
the conversation shape of the same files (`quality.shape`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import takewhile
from pathlib import Path
from typing import Any, Sequence

from jsonschema.exceptions import SchemaError

from funcdex_assets.catalog.fields import is_id_like
from funcdex_assets.dml.validator import schema_validator
from funcdex_assets.quality.dialogue import RowFormatError, decode_result, dialogue_from_row
from funcdex_assets.quality.grounding import scalar_values, stated_by_user
from funcdex_assets.quality.lint import read_rows
from funcdex_assets.quality.phrase_frames import Frame
from funcdex_assets.quality.shape import ConversationShape, ShapeReport, conversation_shape, shape_report


@dataclass(frozen=True)
class FileRows:
    """What one file held: its rows (blank lines not counted) and how many of them were unreadable."""

    path: Path
    rows: int
    unreadable: int


@dataclass
class DatasetReport:
    rows: int = 0
    rows_unreadable: int = 0
    tool_calls: int = 0
    calls_with_valid_arguments: int = 0
    calls_answered: int = 0
    id_arguments: int = 0
    id_arguments_grounded: int = 0
    user_turns: int = 0
    problems: list[str] = field(default_factory=list)  # "file:line: what is wrong; the fix"
    files: list[FileRows] = field(default_factory=list)  # in the order read

    @property
    def rows_readable(self) -> int:
        return self.rows - self.rows_unreadable

    def figures(self) -> dict[str, Any]:
        """The figures by name: counts, and percentages / means rounded to 2 places. A figure
        whose denominator is 0 is None (shown as n/a): no calls is not "100% valid"."""
        def ratio(a: int, b: int, scale: float) -> float | None:
            return round(scale * a / b, 2) if b else None

        readable = self.rows_readable
        return {
            "rows": self.rows,
            "rows_parsed_pct": ratio(readable, self.rows, 100.0),
            "tool_calls": self.tool_calls,
            "arguments_valid_pct": ratio(self.calls_with_valid_arguments, self.tool_calls, 100.0),
            "calls_answered_pct": ratio(self.calls_answered, self.tool_calls, 100.0),
            "id_arguments_after_first_call": self.id_arguments,
            "id_arguments_grounded_pct": ratio(self.id_arguments_grounded, self.id_arguments, 100.0),
            # Over readable rows: an unreadable row contributes no calls or turns.
            "mean_tool_calls": ratio(self.tool_calls, readable, 1.0),
            "mean_user_turns": ratio(self.user_turns, readable, 1.0),
        }

    def nothing_to_report(self) -> str | None:
        """Why these files give no figures at all (no rows, or none readable), naming them;
        None when at least one row was read."""
        names = ", ".join(str(f.path) for f in self.files) or "no file"
        if not self.rows:
            return f"no rows in {names}"
        if not self.rows_readable:
            return f"none of the {self.rows} rows in {names} is readable (see the problems above)"
        return None


_ROLES = ("system", "user", "assistant", "tool")
_TOOL_SHAPE = '{"type": "function", "function": {"name", "description", "parameters"}}'
_CALL_SHAPE = '{"id", "type": "function", "function": {"name", "arguments"}}'


def _kind(value: Any) -> str:
    """The JSON name of a decoded value's type (what a user sees in the file)."""
    if value is None:
        return "null"
    for kind, types in (("boolean", bool), ("number", (int, float)), ("string", str), ("array", list),
                        ("object", dict)):
        if isinstance(value, types):
            return kind
    return type(value).__name__


def _arguments(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """A call's arguments as an object (given as one, or as JSON text holding one), or why not."""
    if isinstance(raw, dict):
        return raw, None
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError as exc:
            return None, f"arguments that are not JSON ({exc}): {raw[:60]!r}"
        if isinstance(value, dict):
            return value, None
        return None, f"arguments that are a JSON {_kind(value)} in text, not an object"
    return None, f"arguments that are a JSON {_kind(raw)}, not an object"


def _tool_problems(tools: list[Any]) -> list[str]:
    out = []
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict):
            out.append(f"tool {i} is a JSON {_kind(tool)}, not an object; write it as {_TOOL_SHAPE}")
        elif not isinstance(fn, dict):
            out.append(f"tool {i} has no `function` object; write it as {_TOOL_SHAPE}")
        elif not isinstance(fn.get("name"), str) or not fn["name"]:
            out.append(f"tool {i} has no function `name`; give the function the name its calls use")
        elif fn.get("parameters") is not None:
            params = fn["parameters"]
            if not isinstance(params, dict):
                out.append(f"tool {i} ({fn['name']}) has `parameters` that are a JSON {_kind(params)}; "
                           "give a JSON Schema object (or leave `parameters` out)")
                continue
            try:
                schema_validator(params)
            except SchemaError as exc:
                out.append(f"tool {i} ({fn['name']}) has `parameters` that are no valid JSON Schema "
                           f"({exc.message}); correct the schema")
    return out


def _call_problems(index: int, calls: Any) -> list[str]:
    at = f"message {index}'s"
    if not isinstance(calls, list):
        return [f"{at} `tool_calls` is a JSON {_kind(calls)}, not an array; make it an array of {_CALL_SHAPE}"]
    out = []
    for j, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(call, dict):
            out.append(f"{at} tool call {j} is a JSON {_kind(call)}, not an object; write it as {_CALL_SHAPE}")
        elif not isinstance(fn, dict):
            out.append(f"{at} tool call {j} has no `function` object; write it as {_CALL_SHAPE}")
        elif not isinstance(fn.get("name"), str) or not fn["name"]:
            out.append(f"{at} tool call {j} has no function `name`; name the offered tool it calls")
        elif "arguments" not in fn:
            out.append(f"{at} tool call {j} ({fn['name']}) has no `arguments`; give an object ({{}} when none)")
        elif (error := _arguments(fn["arguments"])[1]) is not None:
            out.append(f"{at} tool call {j} ({fn['name']}) has {error}; write the arguments as a JSON object")
        elif not isinstance(call.get("id"), str) or not call["id"]:
            out.append(f"{at} tool call {j} ({fn['name']}) has no `id`; give it one and repeat it as the "
                       "`tool_call_id` of the tool message answering it")
    return out


def _message_problems(messages: list[Any]) -> list[str]:
    out = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            out.append(f"message {i} is a JSON {_kind(msg)}, not an object; write it as "
                       '{"role": ..., "content": ...}')
            continue
        role = msg.get("role")
        if "role" not in msg:
            out.append(f"message {i} has no `role`; set it to one of {', '.join(_ROLES)}")
        elif role not in _ROLES:
            out.append(f"message {i} has role {role!r}; use one of {', '.join(_ROLES)}")
        elif role == "tool" and not isinstance(msg.get("content"), str):
            out.append(f"message {i} (tool) has content that is a JSON {_kind(msg.get('content'))}; "
                       "give the tool's result as text (JSON text for a structured result)")
        if msg.get("tool_calls") is not None and role in _ROLES:
            if role != "assistant":
                out.append(f"message {i} ({role}) has `tool_calls`; only assistant messages make calls")
            else:
                out.extend(_call_problems(i, msg["tool_calls"]))
    return out


def structure_problems(row: Any) -> list[str]:
    """What keeps a decoded row from being a TRL tool-calling row (`{"messages": [...], "tools":
    [...]}`, see docs/quality.md), each as "what is wrong; the fix"; [] for a well-formed row.
    Checked before any figure is counted, so a malformed row adds nothing to the figures."""
    if not isinstance(row, dict):
        return [f"the row is a JSON {_kind(row)}, not an object; write one object per line: "
                '{"messages": [...], "tools": [...]}']
    out = []
    messages, tools = row.get("messages"), row.get("tools")
    if "messages" not in row:
        out.append("no `messages`; give the row a `messages` array of {\"role\", \"content\"} objects")
    elif not isinstance(messages, list):
        out.append(f"`messages` is a JSON {_kind(messages)}, not an array; make it an array of message objects")
    elif not messages:
        out.append("`messages` is empty; a row is a conversation, with at least a user and an assistant message")
    else:
        out.extend(_message_problems(messages))
    if "tools" not in row:
        out.append("no `tools`; give the row a `tools` array of the tools offered ([] when none)")
    elif not isinstance(tools, list):
        out.append(f"`tools` is a JSON {_kind(tools)}, not an array; make it an array of {_TOOL_SHAPE}")
    else:
        out.extend(_tool_problems(tools))
    return out


def check_row(row: dict[str, Any], report: DatasetReport, where: str) -> None:
    """Count one row that `structure_problems` passed into `report`: its calls' arguments against
    the offered schemas, their answers, and the grounding of id arguments after the first
    assistant message with calls."""
    schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in row["tools"]}
    messages = row["messages"]
    seen: set[str] = set()
    said: list[str] = []
    first = True
    for i, msg in enumerate(messages):
        report.user_turns += msg["role"] == "user"
        if msg["role"] == "user" and isinstance(msg.get("content"), str):
            said.append(msg["content"])
        if msg["role"] == "tool":
            seen.update(scalar_values(decode_result(msg["content"])))
        calls = msg.get("tool_calls") or []
        # A parallel call is answered by the run of tool messages after it, in any order.
        answers = [m.get("tool_call_id") for m in takewhile(lambda m: m["role"] == "tool", messages[i + 1:])
                   ] if calls else []
        for call in calls:
            report.tool_calls += 1
            name = call["function"]["name"]
            args = _arguments(call["function"]["arguments"])[0]
            schema = schemas.get(name)
            if schema is None:
                report.problems.append(f"{where}: {name} is called but not offered; add it to the row's `tools`")
            elif errors := list(schema_validator(schema).iter_errors(args)):
                report.problems.append(f"{where}: {name} arguments invalid: {errors[0].message}; make them "
                                       "match the tool's `parameters`")
            else:
                report.calls_with_valid_arguments += 1
            if call["id"] in answers:
                report.calls_answered += 1
            else:
                report.problems.append(f"{where}: call {call['id']} ({name}) has no tool response; follow it "
                                       "with a tool message whose `tool_call_id` is its id")
            if not first:
                props = (schema or {}).get("properties")
                for key, value in args.items():
                    sub = props.get(key) if isinstance(props, dict) else None
                    sub = sub if isinstance(sub, dict) else {}
                    if not is_id_like(key, sub) or value == sub.get("default"):
                        continue
                    for v in value if isinstance(value, list) else [value]:
                        report.id_arguments += 1
                        report.id_arguments_grounded += str(v) in seen or stated_by_user(str(v), said)
        # Every call of a first parallel call is made before any result, like a first single call.
        first = first and not calls


def report_files(paths: list[Path]) -> DatasetReport:
    """The figures, problems and per-file row counts of every row of `paths`. Raises
    `quality.lint.DatasetFileError` for a file that cannot be read at all (missing, not UTF-8)."""
    report = DatasetReport()
    for path in paths:
        rows_before, unreadable_before = report.rows, report.rows_unreadable
        for where, row in read_rows(path):
            report.rows += 1
            if isinstance(row, ValueError):
                problems = [f"not JSON ({row}); each line must be one complete JSON object"]
            else:
                problems = structure_problems(row)
            if problems:
                report.rows_unreadable += 1
                report.problems.extend(f"{where}: {p}" for p in problems)
            else:
                check_row(row, report, where)
        report.files.append(FileRows(path, report.rows - rows_before, report.rows_unreadable - unreadable_before))
    return report


def dataset_files(out: Path) -> list[Path]:
    """The per-bundle files if present, else train/test."""
    per_bundle = sorted(out.glob("*/conversations.jsonl"))
    return per_bundle or [p for p in (out / "train.jsonl", out / "test.jsonl") if p.exists()]


def shape_files(paths: list[Path], frames: Sequence[Frame] = ()) -> ShapeReport:
    """The conversation shape (`quality.shape`) of every readable row of `paths` (OpenAI / TRL or
    ShareGPT / Hermes, as `funcdex check` reads them), against the default goals, looking for
    `frames` in user turns. Rows no reader understands are left out: the defect table counts
    them as `unreadable_row`. Raises `quality.lint.DatasetFileError` for a file that cannot be read."""
    shapes: list[ConversationShape] = []
    for path in paths:
        for _, row in read_rows(path):
            if isinstance(row, ValueError):
                continue
            try:
                dialogue = dialogue_from_row(row)
            except RowFormatError:
                continue
            shapes.append(conversation_shape(dialogue, frames))
    return shape_report(shapes, frames=frames)
