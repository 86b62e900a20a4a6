"""Dataset figures computed from the exported JSONL alone (what a consumer of the files sees).

Independent of how the rows were produced: every row must decode and have TRL structure, every
tool-call argument object is validated against the `tools` schema offered in the same row,
every call must be answered by a tool message with its id, and id-like arguments after a row's
first call are checked against the values of earlier tool results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funcdex_assets.catalog.fields import is_id_like
from funcdex_assets.dml.validator import schema_validator
from funcdex_assets.quality.grounding import scalar_values, stated_by_user
from funcdex_assets.quality.lint import read_rows


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
    problems: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        def pct(a: int, b: int) -> float:
            return round(100.0 * a / b, 2) if b else 100.0

        return {
            "rows": self.rows,
            "rows_parsed_pct": pct(self.rows - self.rows_unreadable, self.rows),
            "tool_calls": self.tool_calls,
            "arguments_valid_pct": pct(self.calls_with_valid_arguments, self.tool_calls),
            "calls_answered_pct": pct(self.calls_answered, self.tool_calls),
            "id_arguments_after_first_call": self.id_arguments,
            "id_arguments_grounded_pct": pct(self.id_arguments_grounded, self.id_arguments),
            "mean_tool_calls": round(self.tool_calls / self.rows, 2) if self.rows else 0.0,
            "mean_user_turns": round(self.user_turns / self.rows, 2) if self.rows else 0.0,
        }


def check_row(row: dict[str, Any], report: DatasetReport, where: str) -> None:
    schemas = {t["function"]["name"]: t["function"].get("parameters", {}) for t in row["tools"]}
    messages = row["messages"]
    seen: set[str] = set()
    said: list[str] = []
    first = True
    for i, msg in enumerate(messages):
        report.user_turns += msg["role"] == "user"
        if msg["role"] == "user" and isinstance(msg.get("content"), str):
            said.append(msg["content"])
        if msg["role"] == "tool":
            seen.update(scalar_values(json.loads(msg["content"])))
        for call in msg.get("tool_calls") or []:
            report.tool_calls += 1
            name, args = call["function"]["name"], call["function"]["arguments"]
            schema = schemas.get(name)
            errors = list(schema_validator(schema).iter_errors(args)) if schema is not None else ["not offered"]
            if errors:
                report.problems.append(f"{where}: {name} arguments invalid: {errors[0]}")
            else:
                report.calls_with_valid_arguments += 1
            reply = messages[i + 1] if i + 1 < len(messages) else {}
            if reply.get("role") == "tool" and reply.get("tool_call_id") == call["id"]:
                report.calls_answered += 1
            else:
                report.problems.append(f"{where}: call {call['id']} ({name}) has no tool response")
            if not first:
                props = (schema or {}).get("properties", {})
                for key, value in args.items():
                    sub = props.get(key, {})
                    if not is_id_like(key, sub) or value == sub.get("default"):
                        continue
                    for v in value if isinstance(value, list) else [value]:
                        report.id_arguments += 1
                        report.id_arguments_grounded += str(v) in seen or stated_by_user(str(v), said)
            first = False


def report_files(paths: list[Path]) -> DatasetReport:
    report = DatasetReport()
    for path in paths:
        for where, row in read_rows(path):
            report.rows += 1
            try:
                if isinstance(row, Exception):
                    raise row
                check_row(row, report, where)
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                report.rows_unreadable += 1
                report.problems.append(f"{where}: unreadable row ({exc!r})")
    return report


def dataset_files(out: Path) -> list[Path]:
    """The per-bundle files if present, else train/test."""
    per_bundle = sorted(out.glob("*/conversations.jsonl"))
    return per_bundle or [p for p in (out / "train.jsonl", out / "test.jsonl") if p.exists()]
