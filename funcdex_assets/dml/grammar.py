"""Locate and load the DML GBNF grammars (`grammars/` at the repository root).

Two grammars describe the same conversation language: `dml.gbnf` without thoughts and
`dml_with_thoughts.gbnf` with `</think>` turns. See docs/dml.md for why they are spelled the
way they are (constrained-decoding speed) and which GBNF subset they use.
"""

from __future__ import annotations

from pathlib import Path

GRAMMAR_DIR = Path(__file__).resolve().parents[2] / "grammars"

GRAMMAR_FILES = {
    False: "dml.gbnf",
    True: "dml_with_thoughts.gbnf",
}


def grammar_path(include_thoughts: bool) -> Path:
    """Path of the grammar file (whether or not it exists)."""
    return GRAMMAR_DIR / GRAMMAR_FILES[bool(include_thoughts)]


def load_grammar(include_thoughts: bool) -> str:
    """The GBNF text of the DML grammar, with or without `</think>` turns.

    Raises FileNotFoundError naming the expected path when the file is missing (for example an
    installed wheel without the repository's `grammars/` folder).
    """
    path = grammar_path(include_thoughts)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"DML grammar not found: {path} (expected the repository's grammars/ folder at "
            f"{GRAMMAR_DIR}; run from a source checkout or an editable install)"
        ) from None
