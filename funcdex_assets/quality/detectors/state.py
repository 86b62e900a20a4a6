"""`needless_state_change`: a call that puts an object into the state the conversation last
showed it in: reopening a task every result showed open (just created, listed as active,
`is_completed: false`), closing or completing one already shown done, cancelling one already
shown cancelled. A model learns to reopen what is open.

The state of an object is read from results (an object whose own id is the call's target):
a done flag (`completed`, `is_completed`, `checked`, `done`: true / false) or a `status` /
`state` word (open, active, completed, closed, done, canceled, cancelled); an object a create
made starts open unless its result says otherwise; a successful close / complete / cancel /
reopen sets it. Nothing is said about an object no result showed.
"""

from __future__ import annotations

from typing import Any

from funcdex_assets.catalog.actions import state_set_by, words
from funcdex_assets.catalog.fields import snake
from funcdex_assets.quality.detectors.honesty import failure
from funcdex_assets.quality.detectors.lifecycle import _made_id, _object_id, id_leaves
from funcdex_assets.quality.dialogue import Call, Dialogue, iter_objects
from funcdex_assets.quality.findings import Finding

_DONE_FLAGS = frozenset({"completed", "is_completed", "checked", "done", "is_done"})
_OPEN_WORDS = frozenset({"open", "active", "incomplete", "todo", "to_do", "pending", "upcoming", "confirmed"})
_DONE_WORDS = frozenset({"completed", "closed", "done", "resolved"})
_CANCELED_WORDS = frozenset({"canceled", "cancelled"})


def state_of(obj: dict[str, Any]) -> str | None:
    """"open", "done" or "canceled", as the object says it; None when it does not."""
    for key, value in obj.items():
        if snake(key) in _DONE_FLAGS and isinstance(value, bool):
            return "done" if value else "open"
    for key in ("status", "state"):
        value = obj.get(key)
        if isinstance(value, str):
            word = snake(value)
            if word in _CANCELED_WORDS:
                return "canceled"
            if word in _DONE_WORDS:
                return "done"
            if word in _OPEN_WORDS:
                return "open"
    return None


def _targets(d: Dialogue, call: Call) -> list[str]:
    return [str(leaf.value) for leaf in id_leaves(d, call)]


def needless_state_change(d: Dialogue) -> list[Finding]:
    known: dict[str, tuple[str, int]] = {}  # id -> (state, message index that showed it)
    out: list[Finding] = []
    for call in d.calls:
        if call.arguments_error or not call.answered:
            continue
        wanted = state_set_by(call.name)
        if wanted and not failure(call.result, call.name):
            target = next((t for t in reversed(_targets(d, call)) if t in known), None)
            if target is not None and known[target][0] == wanted:
                out.append(Finding(code="needless_state_change", message_index=call.index, message=(
                    f"{call.name} makes {target} {wanted}, but message {known[target][1]} showed it {wanted} already")))
            targets = _targets(d, call)
            if targets:
                known[target if target is not None else targets[-1]] = (wanted, call.result_index)
        if failure(call.result, call.name):
            continue
        made = _made_id(call) if "create" in words(call.name) or "add" in words(call.name) else None
        for path, obj in iter_objects(call.result):
            own = _object_id(obj)
            if own is None:
                continue
            state = state_of(obj)
            if state is not None:
                known[str(own)] = (state, call.result_index)
            elif own == made:
                known[str(own)] = ("open", call.result_index)
    return out
