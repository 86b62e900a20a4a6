"""The dataset linter behind `funcdex check` and `funcdex report`: every detector on every row of
any tool-calling dataset file, counted per code with one example each.

Files: JSON lines (one row per line, streamed), or a JSON file holding a list of rows, `{"data":
[...]}` or a single row; rows in the OpenAI / TRL or ShareGPT / Hermes format (`quality.dialogue`). A line that
is not JSON, or a row no reader understands, is an `unreadable_row` finding of that row. The
share of defective conversations is conversations with at least one finding over all rows.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from funcdex_assets.quality.detectors import detect
from funcdex_assets.quality.dialogue import RowFormatError, dialogue_from_row
from funcdex_assets.quality.findings import CODES, Finding


class DatasetFileError(ValueError):
    """A file that cannot be read as a dataset at all (missing, empty, not JSON lines)."""


@dataclass
class LintReport:
    """Counts over the rows linted. `conversations_by_code` counts each conversation once per
    code; `examples` holds the first finding of each code as "file:line message i: text"."""

    rows: int = 0
    defective: int = 0
    conversations_by_code: Counter = field(default_factory=Counter)
    findings_by_code: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    @property
    def defect_rate(self) -> float:
        return self.defective / self.rows if self.rows else 0.0

    def add(self, where: str, findings: list[Finding]) -> None:
        self.rows += 1
        if not findings:
            return
        self.defective += 1
        for code in {f.code for f in findings}:
            self.conversations_by_code[code] += 1
        for f in findings:
            self.findings_by_code[f.code] += 1
            at = f" message {f.message_index}" if f.message_index >= 0 else ""
            self.examples.setdefault(f.code, f"{where}{at}: {f.message}")

    def table(self) -> list[dict[str, Any]]:
        """One entry per code found, most conversations first: code, family, conversations,
        share of rows, findings, example."""
        return [{"code": code, "family": CODES[code].family if code in CODES else "", "conversations": n,
                 "share": round(n / self.rows, 4) if self.rows else 0.0,
                 "findings": self.findings_by_code[code], "example": self.examples[code]}
                for code, n in sorted(self.conversations_by_code.items(), key=lambda kv: (-kv[1], kv[0]))]

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "defective": self.defective, "defect_rate": round(self.defect_rate, 4),
                "codes": self.table()}


def read_rows(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, decoded row or the decoding error) for every row of a dataset file. JSON lines
    are streamed (a dataset of any size); a JSON array or `{"data": [...]}` file is loaded whole."""
    try:
        with path.open(encoding="utf-8") as f:
            head = f.read(4096).lstrip()
            f.seek(0)
            whole = head.startswith("[") or (head.startswith("{") and path.suffix == ".json")
            data = _whole_file(f.read()) if whole else None
            if data is not None:
                for i, row in enumerate(data):
                    yield f"{path}[{i}]", row
                return
            f.seek(0)
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    yield f"{path}:{n}", json.loads(line)
                except ValueError as exc:
                    yield f"{path}:{n}", exc
    except FileNotFoundError:
        raise DatasetFileError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise DatasetFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _whole_file(text: str) -> list[Any] | None:
    """The rows of a file that is one JSON document; None when it is JSON lines after all (a
    first row that happens to be a list or an object)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return data["data"]
    if isinstance(data, dict) and ("messages" in data or "conversations" in data):
        return [data]  # one conversation, perhaps pretty-printed over many lines
    return None


def lint_row(row: Any, *, structural: bool = True) -> list[Finding]:
    """Every finding of one decoded row (an exception stands for a line that did not decode)."""
    if isinstance(row, Exception):
        return [Finding(code="unreadable_row", message_index=-1, message=f"not JSON: {row}")]
    try:
        dialogue = dialogue_from_row(row)
    except RowFormatError as exc:
        return [Finding(code="unreadable_row", message_index=-1, message=str(exc))]
    return detect(dialogue, structural=structural)


def lint_rows(rows: Iterable[tuple[str, Any]], *, ignore: Iterable[str] = (), structural: bool = True) -> LintReport:
    skip = set(ignore)
    report = LintReport()
    for where, row in rows:
        report.add(where, [f for f in lint_row(row, structural=structural) if f.code not in skip])
    return report


def lint_files(paths: Iterable[Path], *, ignore: Iterable[str] = ()) -> LintReport:
    """Lint every row of every file. Raises `DatasetFileError` for a file that cannot be read."""
    def rows() -> Iterator[tuple[str, Any]]:
        for path in paths:
            yield from read_rows(Path(path))

    return lint_rows(rows(), ignore=ignore)
