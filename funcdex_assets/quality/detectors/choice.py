"""`silent_pick`: the assistant acts on one item out of several a listing showed, and nothing in
the conversation says which: no message names it (by any of its words, or the first words of its
text), the assistant did not ask, and the user asked for no position
("the first one", "the latest"). "Reply to the thread from that list" answered by a reply to
one of twelve threads teaches a model to guess.

An item can be singled out by any of its words (a name, "checking", a card's last four digits)
or the first words of its text, said by the user or the assistant from that request up to the
assistant's account of the call. An item's candidates are the objects of the list it was found in (a list of two or more
objects in one result, with their own ids). Once a later result shows the item alone (it was
fetched, created or changed by id), the choice is made: later uses are not picks.
"""

from __future__ import annotations

import re
from typing import Any

from funcdex_assets.catalog.fields import snake
from funcdex_assets.quality.dates import parse_time
from funcdex_assets.quality.detectors.honesty import failure
from funcdex_assets.quality.detectors.lifecycle import _object_id, id_leaves, object_ids
from funcdex_assets.quality.dialogue import Dialogue, iter_scalars
from funcdex_assets.quality.findings import Finding

_TEXTS = ("snippet", "text", "body", "description", "message", "body_text")
_POSITION = re.compile(r"\b(?:first|second|third|last|latest|newest|oldest|most recent|top|earliest|only|each|every|all)\b",
                       re.I)


def _lists(value: Any, path: str = "") -> list[list[dict[str, Any]]]:
    """Every list of two or more objects inside `value`."""
    out: list[list[dict[str, Any]]] = []
    if isinstance(value, list):
        objects = [v for v in value if isinstance(v, dict)]
        if len(objects) >= 2:
            out.append(objects)
        for v in value:
            out.extend(_lists(v))
    elif isinstance(value, dict):
        for v in value.values():
            out.extend(_lists(v))
    return out


def _handles(item: dict[str, Any], own: str) -> list[str]:
    """How a user could single the item out: any of its words (a name, a type such as
    "checking", a card's last four digits, a category) and the first words of its text."""
    out = [own]
    for key, value in iter_scalars(item):
        if isinstance(value, bool) or value is None:
            continue
        text = str(value).strip()
        if snake(key) in _TEXTS and len(text.split()) > 4:
            out.append(" ".join(text.split()[:4]))
        elif 3 <= len(text) <= 60 and not text.startswith("http") and parse_time(text) is None:
            out.append(text)
    return out


def _mentions(text: str, handle: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(handle.lower())}(?![\w-])", text) is not None


def silent_pick(d: Dialogue) -> list[Finding]:
    found: list[Finding] = []
    # id -> (message index of the listing, how many candidates, how to name it)
    listed: dict[str, tuple[int, int, list[str]]] = {}
    settled: set[str] = set()  # ids a call already used, or a result showed alone: chosen before
    for call in d.calls:
        # One call for each of several listed items (a parallel call) picks none of them.
        group = [c for c in d.messages[call.index].calls if c.name == call.name]
        if not call.arguments_error and call.answered and len(group) < 2:
            for value in object_ids(d, call):
                if value in settled or value not in listed:
                    continue
                at, n, handles = listed[value]
                # From the request that led to the listing ("list the occurrences, then get each")
                # to the assistant's account of the call ("I've refunded the second February charge").
                start = max((m.index for m in d.messages[:at] if m.role == "user"), default=0)
                end = next((m.index for m in d.messages[(call.result_index or call.index) + 1:]
                            if m.role == "assistant" and m.text), call.index)
                said = [m.text.lower() for m in d.messages[start:end + 1] if m.role in ("user", "assistant")]
                users = [m.text for m in d.messages[start:end + 1] if m.role == "user"]
                named = any(_mentions(text, h) for h in handles for text in said if h)
                if not named and not any(_POSITION.search(text) for text in users):
                    found.append(Finding(code="silent_pick", message_index=call.index, message=(
                        f"{call.name} acts on {value}, one of {n} items the result at message {at} listed, "
                        f"and nobody said which")))
                settled.add(value)  # one finding per item; once chosen it is known
        if not call.arguments_error:
            settled |= {str(leaf.value) for leaf in id_leaves(d, call)} - set(listed)
        if not call.answered or failure(call.result, call.name):
            continue
        in_lists: set[str] = set()
        for objects in _lists(call.result):
            ids = [(_object_id(obj), obj) for obj in objects]
            ids = [(own, obj) for own, obj in ids if own]
            if len(ids) < 2:
                continue
            for own, obj in ids:
                in_lists.add(own)
                if own not in settled:
                    listed[own] = (call.result_index, len(ids), _handles(obj, own))
        # What a result shows alone (fetched, made or changed by id) is no longer one of many.
        for value in {str(leaf.value) for leaf in id_leaves(d, call)}:
            if value not in in_lists:
                listed.pop(value, None)
    return found
