"""`used_after_delete`, `entity_drift` and `wrong_container` (below): an object's life.

`used_after_delete`: an id that was deleted, trashed or cancelled is used again and the tool
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

from funcdex_assets.catalog.actions import ALL_VERBS, deletion_kind, name_action, reads_many, restores, words
from funcdex_assets.catalog.fields import NAME_NOISE, id_entity, singular, snake
from funcdex_assets.quality.dates import parse_time
from funcdex_assets.quality.detectors.honesty import failure
from funcdex_assets.quality.detectors.values import Leaf, is_id_value, is_opaque, leaves
from funcdex_assets.quality.dialogue import Call, Dialogue, iter_objects
from funcdex_assets.quality.findings import Finding

_GONE_STATES = frozenset({"deleted", "canceled", "cancelled", "trashed", "archived", "voided", "removed", "revoked"})


def id_leaves(d: Dialogue, call: Call) -> list[Leaf]:
    """The call's arguments that identify something: named like ids, or opaque tokens."""
    return [leaf for leaf in leaves(call.arguments, d.tools.get(call.name))
            if is_id_value(leaf) or (is_opaque(leaf.value) and snake(leaf.key) not in ("page_token", "cursor"))]


def object_ids(d: Dialogue, call: Call) -> set[str]:
    """The values of the call's id arguments that name objects (a time window's bounds, which
    `is_opaque` takes for tokens, name none)."""
    return {str(leaf.value) for leaf in id_leaves(d, call)
            if not (isinstance(leaf.value, str) and parse_time(leaf.value) is not None)}


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


# ---------------------------------------------------------------------------------------------
# `entity_drift`: one object, two contents.
#
# What a call gave an object (the subject a draft was created with, the body of a reply, the
# name an update set) and what a result showed of it are its facts, by the object's id. A later
# result showing the same id with another value of the same fact, and no change of that fact
# between, tells the reader the tool forgot what it was told ("I created 'Q3 plan'" ... the get
# shows "Morph leading-edge roi"). Facts are the fields people read: a title (`title`, `name`,
# `summary`, `subject`), a body (`body`, `text`, `content`; a `snippet` or `preview` only has to
# be the start of it), a description, a location, a one-address recipient (`to`,
# `recipient_email`), also where an object boxes them (`fields`). Objects are told by an `id`,
# `gid` or `uri` of five characters or more (eight for a number); a shorter one together with the
# kind its place names (`data.issue`, `issues[]`: issue 10042, not transition 10042).
# A create from a sentence alone (`text`, as Calendar's quick add takes) makes an object whose
# title the sentence holds.

_FACT_GROUPS: dict[str, str] = {
    "title": "title", "name": "title", "summary": "summary", "subject": "subject",
    "body": "body", "text": "body", "content": "body", "snippet": "body", "preview": "body", "plain_text": "body",
    "markdown_text": "body",
    "description": "description", "notes": "description", "location": "location",
    "to": "recipient", "recipient": "recipient", "recipient_email": "recipient",
}
_PREFIXES = frozenset({"body", "snippet", "preview"})  # shown shortened: only the start must agree
_OBJECT_IDS = ("id", "gid", "uri")
_ARG_QUALIFIERS = frozenset({"new", "message", "email", "updated"})


def _fact_group(key: str, qualifiers: frozenset[str] = frozenset()) -> str | None:
    """The fact a field or argument states (`message_body` -> body, `new_title` -> title),
    None for any other."""
    sk = snake(key)
    if sk in _FACT_GROUPS:
        return _FACT_GROUPS[sk]
    ws = sk.split("_")
    if len(ws) >= 2 and set(ws[:-1]) <= qualifiers | _ARG_QUALIFIERS:
        return _FACT_GROUPS.get(ws[-1])
    return None


def _norm(value: str) -> str:
    return " ".join(value.lower().split()).rstrip(".…").strip()


def _agrees(shown: str, known: str, field: str, known_field: str) -> bool:
    a, b = _norm(shown), _norm(known)
    if a == b:
        return True
    if snake(field) in _PREFIXES or snake(known_field) in _PREFIXES:
        return bool(a and b) and (a.startswith(b) or b.startswith(a) or a in b or b in a)
    return False


_NO_KIND = frozenset({"", "data", "result", "results", "item", "items", "value", "values", "response", "record"})


def _kind_of(path: tuple[str, ...]) -> str:
    """What kind of object sits at `path` (`data.issues[]` -> issue), "" when the path says
    nothing (`data`)."""
    named = [p for p in path if p != "[]"]
    kind = singular(snake(named[-1])) if named else ""
    return "" if kind in _NO_KIND else kind


def _object_id(obj: dict[str, Any], kind: str = "") -> str | None:
    """The object's id where it tells one object from every other: a long one alone; a short
    number (Jira's transition 31, issue 10042) only with its kind, since kinds share them."""
    for key in _OBJECT_IDS:
        value = obj.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            text = str(value)
            if len(text) >= (8 if text.isdigit() else 5):
                return text
            if kind and len(text) >= 3:
                return f"{kind}:{text}"
    return None


def _target_key(leaf: Leaf) -> str | None:
    """An id argument as `_object_id` keys the object it names (`issueIdOrKey: 10042` ->
    issue:10042)."""
    value = str(leaf.value)
    if len(value) >= (8 if value.isdigit() else 5):
        return value
    kind = singular(id_entity(leaf.key) or "")
    return f"{kind}:{value}" if kind and len(value) >= 3 else None


def _facts_of(obj: dict[str, Any]) -> dict[str, Any]:
    """The object's fields and those it boxes (Jira's issue.fields.summary is the issue's)."""
    out = dict(obj)
    for box in ("fields", "properties", "attributes"):
        if isinstance(obj.get(box), dict):
            out.update({k: v for k, v in obj[box].items() if k not in out})
    return out


def _made_id(call: Call) -> str | None:
    """The id of the object a create call made: the id of its result's outermost object that
    has one."""
    best: tuple[int, str] | None = None
    for path, obj in iter_objects(call.result):
        found = _object_id(obj, _kind_of(path))
        if found and (best is None or len(path) < best[0]):
            best = (len(path), found)
    return best[1] if best else None


def entity_drift(d: Dialogue) -> list[Finding]:
    out: list[Finding] = []
    # object id -> fact group -> (value, field it was stated as, message index that stated it)
    facts: dict[str, dict[str, tuple[str, str, int]]] = {}
    for call in d.calls:
        if not call.answered or failure(call.result, call.name) is not None:
            continue
        action = name_action(call.name)
        flagged = False
        for path, obj in iter_objects(call.result):
            oid = _object_id(obj, _kind_of(path))
            known = facts.get(oid) if oid else None
            if not known:
                continue
            for key, value in _facts_of(obj).items():
                group = _fact_group(key)
                if group is None or group not in known or not isinstance(value, str) or not value.strip():
                    continue
                was, field, where = known[group]
                if not flagged and not _agrees(value, was, key, field) and action not in ("update", "create"):
                    out.append(Finding(code="entity_drift", message_index=call.result_index, message=(
                        f"{call.name} shows {oid!r} with {key}={_short(value)!r}, but message {where} had its "
                        f"{field}={_short(was)!r} and nothing changed it")))
                    flagged = True
        if action in ("create", "update", "delete"):
            # A write that names an object (INSERT_TEXT(document_id), DELETE_CONTENT_RANGE) may
            # change its text in ways its arguments do not spell out: its body is unknown now.
            for leaf in id_leaves(d, call):
                for key in (str(leaf.value), _target_key(leaf)):
                    if key in facts:
                        facts[key].pop("body", None)
        # What this call states about objects, newest first: its arguments for the object it
        # makes or changes, then what its result shows.
        target: str | None = None
        if action == "create" and deletion_kind(call.name) is None:
            target = _made_id(call)
            if target is not None and target in {str(leaf.value) for leaf in id_leaves(d, call)}:
                # INSERT_TEXT(document_id) answers with that document: it put a part into it (its
                # text is not the document's body), so its arguments state nothing about it.
                target = None
        elif action == "update":
            targets = _targets(call, id_leaves(d, call))
            target = _target_key(targets[0]) if targets else None
        for path, obj in iter_objects(call.result):
            oid = _object_id(obj, _kind_of(path))
            if not oid:
                continue
            for key, value in _facts_of(obj).items():
                group = _fact_group(key)
                if group and isinstance(value, str) and value.strip() and len(value) >= 3:
                    facts.setdefault(oid, {})[group] = (value, key, call.result_index)
        if target and action == "create":
            out.extend(_unread_sentence(call, target))
        if target:
            qualifiers = frozenset(words(call.name))
            for key, value in call.arguments.items():
                group = _fact_group(key, qualifiers)
                if group and isinstance(value, str) and value.strip() and len(value) >= 3:
                    facts.setdefault(target, {})[group] = (value, key, call.index)
    return out


_SENTENCE_KEYS = frozenset({"text", "sentence", "input", "prompt", "query_text"})


def _unread_sentence(call: Call, made: str) -> list[Finding]:
    """A create from a sentence alone (Calendar's quick add: `text: "Lunch with Ana on Friday at
    12:30"`) makes what the sentence says: a made object titled with words the sentence does
    not hold was not read from it."""
    facts = {k: v for k, v in call.arguments.items() if _fact_group(k) in ("title", "summary", "subject")}
    sentence = next((v for k, v in call.arguments.items() if snake(k) in _SENTENCE_KEYS and isinstance(v, str)
                     and len(v.split()) >= 3), None)
    if facts or sentence is None:
        return []
    for path, obj in iter_objects(call.result):
        if _object_id(obj, _kind_of(path)) != made:
            continue
        for key, value in _facts_of(obj).items():
            if _fact_group(key) in ("title", "summary") and isinstance(value, str) and value.strip() \
                    and _norm(value) not in _norm(sentence):
                return [Finding(code="entity_drift", message_index=call.result_index, message=(
                    f"{call.name} was given {sentence!r} and made {key}={_short(value)!r}, which the sentence "
                    "does not say"))]
    return []


# ---------------------------------------------------------------------------------------------
# `wrong_container`: an object looked for where it is not.
#
# Where an object lives is the container ids of the call that made it or listed it (the event
# made with calendarId "c_team", the task listed with project_gid 1203). A later call that names
# the object (its own id, `_targets`) beside another value of the same container id (GET_EVENT
# with calendarId "c_other") asks the wrong place: a real API answers not found. Aliases of the
# caller's own ("primary", "me", "default") match any value. An update's optional container id
# is where it moves the object, and becomes its place.

_ALIASES = frozenset({"primary", "me", "default", "self", "current"})


def wrong_container(d: Dialogue) -> list[Finding]:
    out: list[Finding] = []
    home: dict[str, dict[str, tuple[str, int]]] = {}  # object id -> container entity -> (id, message)
    for call in d.calls:
        if not call.answered or failure(call.result, call.name) is not None:
            continue
        ids = [leaf for leaf in id_leaves(d, call) if isinstance(leaf.value, (str, int)) and not isinstance(leaf.value, bool)]
        targets = _targets(call, ids) if name_action(call.name) != "create" else []
        containers = {id_entity(leaf.key): str(leaf.value) for leaf in ids
                      if leaf not in targets and id_entity(leaf.key)}
        moved: dict[str, str] = {}
        if name_action(call.name) == "update":
            # An update's optional container is where the object goes (Trello's update_card with
            # a list_id moves the card); a required one (a path's calendarId) is where it is.
            required = set((d.tools.get(call.name) or {}).get("required") or [])
            # A move's container is where the object goes, required or not (MOVE_FILE's folderId).
            moving = "move" in words(call.name)
            moved = {id_entity(leaf.key): str(leaf.value) for leaf in ids
                     if leaf not in targets and id_entity(leaf.key) and (moving or leaf.key not in required)}
            containers = {k: v for k, v in containers.items() if k not in moved}
        for target in targets:
            known = home.get(_target_key(target) or "", {})
            for entity, value in containers.items():
                was = known.get(entity)
                if was and was[0] != value and not {was[0].lower(), value.lower()} & _ALIASES:
                    out.append(Finding(code="wrong_container", message_index=call.index, message=(
                        f"{call.name} looks for {target.key}={target.value!r} in {entity} {value!r}, but message "
                        f"{was[1]} put it in {entity} {was[0]!r}")))
                    break
        for target in targets:
            for entity, value in moved.items():
                home.setdefault(_target_key(target) or "", {})[entity] = (value, call.index)
        if not containers:
            continue
        placed: list[str] = []
        if name_action(call.name) == "create" and deletion_kind(call.name) is None:
            made = _made_id(call)
            placed = [made] if made else []
        elif reads_many(call.name):
            listed = [(path, item) for path, item in iter_objects(call.result) if path and path[-1] == "[]"]
            depth = min((len(path) for path, _ in listed), default=0)  # the listing's items, not their parts
            placed = [oid for path, item in listed if len(path) == depth and (oid := _object_id(item, _kind_of(path)))]
        for oid in placed:
            for entity, value in containers.items():
                home.setdefault(oid, {}).setdefault(entity, (value, call.index))
    return out


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."
