"""Phrase frames: sentence templates that user turns repeat, and the 3-word openings they share.

A dataset written from a few templates teaches a model a few sentences: when every follow-up
starts "Great. Now ..." the user side of the data is one frame with the nouns swapped. Two
measures:

- `Frame`: one template (Python `str.format` text, e.g. "Thanks. Next, could you {request}?")
  whose fixed text, its fields taken as wildcards, is looked for in each user turn. A template
  whose fixed text has fewer than 2 words ("Please {request}.", "to {value}", "{values}") says
  too little to be a frame and gives none (`frame` returns None). Matching ignores case and
  treats any run of whitespace as one space; each field stands for one or more characters (any,
  newlines too); the fixed text may stand anywhere in the turn (a template may be one clause of
  it), but not inside a word. The templates are plain data: `funcdex check` passes those of
  the offline generator's phrasebook (`frames_from_phrasebook`), so this module reads no
  generator code.
- `opening`: the first 3 words of a turn (lowercased, punctuation dropped): a frame measure that
  needs no templates, for any dataset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Formatter
from typing import Any, Iterable, Mapping, Sequence

# The phrasebook entries the offline generator writes user turns from (offline/writer.py and
# offline/speech.py, every `say_*` entry), whole or split by tone. The others (before_call,
# segment_summary, thought_*, scenario, ...) are assistant, reasoning or generator text.
# tests/test_shape.py fails when one of these keys leaves the phrasebook.
USER_KEYS: tuple[str, ...] = ("greeting", "first_request", "followup_request", "then_join", "it_reference",
                              "label_reference", "mention_values", "clarify_answer", "closing_user",
                              "first_goal", "followup_goal", "implicit_delete", "implicit_cancel",
                              "confirm_yes", "confirm_no", "another_copy", "each_reference", "which_answer",
                              "not_found_answer", "conflict_answer", "validation_error_answer",
                              "out_of_scope_request", "step_first", "step_next", "step_last", "steps_intro",
                              "list_intro", "context_request", "made_reference", "same_reference", "found_reference",
                              "placement_reference", "placement_it", "scope_reference")
USER_KEY_PREFIXES: tuple[str, ...] = ("say_",)
MIN_FRAME_WORDS = 2
OPENING_WORDS = 3

_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")


@dataclass(frozen=True)
class Frame:
    """One template as a frame: `id` names it (`"followup_request[0]"`), `template` is its text,
    `pattern` finds it in a turn."""

    id: str
    template: str
    pattern: re.Pattern[str]

    def matches(self, text: str) -> bool:
        return self.pattern.search(text) is not None


def _literal(text: str) -> str:
    """`text` as a regex: escaped, any whitespace run matching any other."""
    return r"\s+".join(re.escape(part) for part in re.split(r"\s+", text)) if text.strip() else (
        r"\s+" if text else "")


def frame(frame_id: str, template: str) -> Frame | None:
    """`template` as a frame, None when its fixed text (what is left without the `{fields}`)
    has fewer than `MIN_FRAME_WORDS` words. Raises ValueError for a template `str.format` cannot
    parse (an unmatched brace)."""
    pieces = list(Formatter().parse(template))
    fixed = " ".join(literal for literal, _, _, _ in pieces)
    if len(_WORD.findall(fixed)) < MIN_FRAME_WORDS:
        return None
    parts: list[str] = []
    for literal, field_name, _, _ in pieces:
        parts.append(_literal(literal))
        if field_name is not None:
            # A field the template starts with only asks for some text before the rest: a
            # one-character look-behind finds the same turns as ".+?" without trying every
            # start position against every end (quadratic in the turn's length).
            parts.append("(?<=.)" if not parts[:-1] and not literal else ".+?")
    body = "".join(parts)
    # Not inside a word: "Great. Now" is not found in "ungreat. now"; an end that is a field,
    # punctuation or a space needs no guard.
    head = r"(?<!\w)" if template[:1].isalnum() else ""
    tail = r"(?!\w)" if template[-1:].isalnum() else ""
    return Frame(id=frame_id, template=template, pattern=re.compile(head + body + tail, re.I | re.S))


def frames_of(templates: Mapping[str, Sequence[str]]) -> list[Frame]:
    """Every frame of `{key: [template, ...]}`, named `key[i]`; templates that give none are left out."""
    out = []
    for key, texts in templates.items():
        for i, text in enumerate(texts):
            found = frame(f"{key}[{i}]", text)
            if found is not None:
                out.append(found)
    return out


def user_templates(phrasebook: Mapping[str, Any]) -> dict[str, list[str]]:
    """The phrasebook entries user turns are written from (`USER_KEYS`, `USER_KEY_PREFIXES`):
    `{key: [template, ...]}`, in the phrasebook's order. An entry split by tone
    (`{any: [...], casual: [...]}`) gives one list per part, keyed `key.part`."""
    out: dict[str, list[str]] = {}
    for key, value in phrasebook.items():
        if not (key in USER_KEYS or key.startswith(USER_KEY_PREFIXES)):
            continue
        if isinstance(value, list):
            out[key] = [str(t) for t in value]
        elif isinstance(value, dict):
            for part, texts in value.items():
                out[f"{key}.{part}"] = [str(t) for t in texts]
    return out


def frames_from_phrasebook(phrasebook: Mapping[str, Any]) -> list[Frame]:
    """The frames of a phrasebook's user-facing templates (`offline/phrasebook.yaml`, loaded)."""
    return frames_of(user_templates(phrasebook))


def matching(text: str, frames: Iterable[Frame]) -> list[str]:
    """The ids of the frames found in `text`, in the order of `frames`."""
    return [f.id for f in frames if f.matches(text)]


def opening(text: str, words: int = OPENING_WORDS) -> str:
    """The first `words` words of `text`, lowercased and joined by one space ("great now list"
    for "Great. Now list ..."); fewer for a shorter text, "" for one with no word."""
    return " ".join(w.lower() for w in _WORD.findall(text)[:words])
