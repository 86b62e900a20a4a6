"""`used_after_delete`: an id that was deleted, trashed or cancelled is used again and the tool
answers as if nothing happened.

A call deletes when its name says so (`catalog.actions.deletion_kind`) and its result reports
no failure. The ids it deletes are its id-like arguments naming the tool's own entity
(`delete_event(calendarId, eventId)` deletes the event, not the calendar), else its last
id-like argument. After a permanent delete, any later successful call with that id is a defect
unless its result shows the object deleted; after a soft one (trash, cancel, archive, void), a
successful call that changes it is, and a read only when it shows the object in a live state
(`status: "active"`), since a cancelled event can still be looked at. A restoring call
(`untrash`, `restore`) brings the id back.
"""

from __future__ import annotations

from typing import Any

from funcdex_assets.catalog.actions import ALL_VERBS, deletion_kind, name_action, restores, words
from funcdex_assets.catalog.fields import NAME_NOISE, id_entity, singular, snake
from funcdex_assets.quality.detectors.honesty import failure
from funcdex_assets.quality.detectors.values import Leaf, is_id_value, is_opaque, leaves
from funcdex_assets.quality.dialogue import Call, Dialogue, iter_objects
from funcdex_assets.quality.findings import Finding

_GONE_STATES = frozenset({"deleted", "canceled", "cancelled", "trashed", "archived", "voided", "removed", "revoked"})


def id_leaves(d: Dialogue, call: Call) -> list[Leaf]:
    """The call's arguments that identify something: named like ids, or opaque tokens."""
    return [leaf for leaf in leaves(call.arguments, d.tools.get(call.name))
            if is_id_value(leaf) or (is_opaque(leaf.value) and snake(leaf.key) not in ("page_token", "cursor"))]


def _targets(call: Call, ids: list[Leaf]) -> list[Leaf]:
    """The id a deleting call deletes: the last one naming a noun of the tool's name
    (`delete_event` -> eventId, `..._appId_cardId_archive` -> cardId); with no such noun
    (`GMAIL_MOVE_TO_TRASH`), its last id; none when the name deletes a part of something else
    (`DELETE_CONTENT_RANGE(document_id)`)."""
    ws = words(call.name)
    nouns = {singular(w) for w in ws if w not in NAME_NOISE and w not in ALL_VERBS}
    # eventId names the event; Calendly's `scheduled_event` and Stripe's `subscription` are the
    # object's own name, holding its URI or id.
    own = [leaf for leaf in ids if singular((id_entity(leaf.key) or snake(leaf.key)).split("_")[-1]) in nouns]
    if own:
        # `.../apps/{appId}/cards/{cardId}/archive`: the last id names the object, the others its
        # containers.
        return own[-1:]
    # Only a toolkit prefix (`gmail`) besides verbs: the id argument is the object.
    return ids[-1:] if nouns <= {singular(ws[0])} else []


def _shows_gone(result: Any) -> bool:
    for _, obj in iter_objects(result):
        for key, value in obj.items():
            sk = snake(key)
            if value is True and sk in ("deleted", "trashed", "archived", "canceled", "cancelled", "is_deleted"):
                return True
            if sk in ("status", "state") and isinstance(value, str) and value.lower() in _GONE_STATES:
                return True
    return False


def _shows_alive(result: Any, value: str) -> bool:
    """The result shows the object with this id in a live state (`status: "active"`): the tool
    forgot it was cancelled or trashed."""
    for _, obj in iter_objects(result):
        if value not in {str(v) for v in obj.values() if isinstance(v, (str, int))}:
            continue
        for key, state in obj.items():
            if snake(key) in ("status", "state") and isinstance(state, str) and state.lower() not in _GONE_STATES:
                return True
    return False


def used_after_delete(d: Dialogue) -> list[Finding]:
    out: list[Finding] = []
    gone: dict[str, tuple[Call, str]] = {}  # id value -> (the deleting call, permanent | soft)
    for call in d.calls:
        if not call.answered:
            continue
        ids = id_leaves(d, call)
        if restores(call.name):
            for leaf in ids:
                gone.pop(str(leaf.value), None)
            continue
        ok = failure(call.result, call.name) is None
        if not ok:
            continue
        kind = deletion_kind(call.name)
        for leaf in ids:
            hit = gone.get(str(leaf.value))
            if hit is None:
                continue
            deleter, how = hit
            writes = name_action(call.name) != "get" and name_action(call.name) != "list"
            if (how == "permanent" or writes or _shows_alive(call.result, str(leaf.value))) \
                    and not _shows_gone(call.result):
                out.append(Finding(code="used_after_delete", message_index=call.index, message=(
                    f"{call.name} uses {leaf.key}={leaf.value!r}, which {deleter.name} (message {deleter.index}) "
                    f"{'deleted' if how == 'permanent' else 'trashed or cancelled'}, and the tool answers as if it "
                    "still exists")))
                break
        if kind:
            for leaf in _targets(call, ids):
                gone.setdefault(str(leaf.value), (call, kind))
    return out
