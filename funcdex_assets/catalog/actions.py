"""What a tool does, read from its name: create, update, list, get or delete, and which calls
destroy, send or pay (what a user must have asked for).

Names are the only signal every tool format has (`GMAIL_MOVE_TO_TRASH`, `deleteEvent`,
`calendar.events.delete`, `put_meetings_meetingId`), so the verb is found wherever it stands in
the snake-cased name. The offline world uses `name_action` to decide how a call changes its
state; the quality detectors use `destructive_kind` and `deletion_kind` to judge the calls of
any dataset.
"""

from __future__ import annotations

from typing import Any

from funcdex_assets.catalog.fields import id_entity, snake

CREATE_VERBS = frozenset({"create", "add", "insert", "send", "post", "upload", "schedule", "invite", "reply",
                          "copy", "new", "draft", "book", "open", "submit", "comment", "duplicate", "quick"})
UPDATE_VERBS = frozenset({"update", "modify", "edit", "patch", "put", "set", "move", "rename", "complete", "close",
                          "reopen", "assign", "mark", "transition", "archive", "cancel", "share", "finalize",
                          "replace", "pay", "void", "accept", "decline", "star", "pin", "merge"})
LIST_VERBS = frozenset({"list", "search", "find", "fetch", "query", "browse"})
DELETE_VERBS = frozenset({"delete", "remove", "trash"})
READ_VERBS = frozenset({"get", "read", "retrieve", "download", "check", "lookup"})
ALL_VERBS = CREATE_VERBS | UPDATE_VERBS | LIST_VERBS | DELETE_VERBS | READ_VERBS

# Calls a user must have asked for (or confirmed): what they do cannot be taken back, or
# reaches other people or money. Word -> kind; the kind groups the words a user would say.
_DESTRUCTIVE = {
    "delete": "delete", "remove": "delete", "destroy": "delete", "purge": "delete", "erase": "delete",
    "trash": "delete", "discard": "delete", "wipe": "delete",
    "cancel": "cancel", "void": "cancel", "revoke": "cancel", "terminate": "cancel", "decline": "cancel",
    "send": "send", "reply": "send", "forward": "send", "post": "send", "publish": "send", "broadcast": "send",
    "pay": "pay", "charge": "pay", "capture": "pay", "transfer": "pay", "payout": "pay", "purchase": "pay",
    "refund": "refund",
}
# Deleting for good: the id is gone. Trash, cancel and archive keep the object (it can be read,
# and restored), so only writes to it are wrong afterwards.
_PERMANENT = frozenset({"delete", "destroy", "purge", "erase", "remove", "wipe"})
_SOFT = frozenset({"trash", "cancel", "void", "archive", "revoke", "terminate", "discard"})
_RESTORE = frozenset({"restore", "untrash", "undelete", "recover", "unarchive", "reactivate", "reopen", "uncancel"})
# `remove_label`, `remove_member`: removing something *from* the object leaves the object.
_DETACH_OBJECTS = frozenset({"label", "labels", "member", "members", "tag", "tags", "attendee", "attendees",
                             "reaction", "user", "users", "permission", "watcher", "assignee", "from"})


def words(name: str) -> list[str]:
    """`GMAIL_MOVE_TO_TRASH` -> ['gmail', 'move', 'to', 'trash']; `calendar.events.delete` too."""
    return [w for w in snake(name).split("_") if w]


def action_verb(name: str) -> str:
    """The verb of a tool name wherever it stands: `EVENTS_LIST` -> `list`, `QUICK_ADD` -> `add`."""
    ws = words(name)
    verbs = [w for w in ws if w in ALL_VERBS and w != "quick"]
    return verbs[0] if verbs else (ws[0] if ws else "")


def name_action(name: str) -> str:
    """`create`, `update`, `list`, `delete` or `get`, from a tool name's verb."""
    verb = action_verb(name)
    if verb in CREATE_VERBS:
        return "create"
    if verb in UPDATE_VERBS:
        return "update"
    if verb in DELETE_VERBS:
        return "delete"
    if verb in LIST_VERBS:
        last = words(name)[-1]
        plural = last.endswith("s") and not last.endswith("ss")
        # FETCH_EMAILS lists; FETCH_MESSAGE_BY_MESSAGE_ID gets one.
        return "list" if verb in ("list", "search", "browse") or plural else "get"
    return "get"


# Verbs whose call changes its object only as far as its arguments say (UPDATE_TASK,
# PATCH_EVENT); `MARK_AS_READ`, `COMPLETE_TASK` and `MOVE_TO_TRASH` change it by the verb alone.
_BY_ARGUMENTS = frozenset({"update", "modify", "edit", "patch", "put", "set", "rename", "replace"})


def changes_by_arguments(name: str) -> bool:
    """The call changes its object by what its arguments say, not by its verb: an update verb
    (`UPDATE_TASK`, `events.patch`) or adding / removing something to / from an object
    (`ADD_LABEL_TO_EMAIL`, `remove_member_from_project`). Such a call with nothing but its
    target's id changes nothing."""
    ws = words(name)
    verb = action_verb(name)
    if verb in _BY_ARGUMENTS:
        return True
    return verb in ("add", "remove") and verb in ws and bool({"to", "from"} & set(ws[ws.index(verb) + 1:]))


def changes_nothing(name: str, arguments: dict[str, Any], properties: dict[str, Any]) -> bool:
    """A call of `name` (`changes_by_arguments`) with `arguments` carries nothing but one id and
    documented defaults while the tool (its schema's `properties`) takes more: "add a label"
    with no label. False when the properties are unknown."""
    if not properties or not changes_by_arguments(name):
        return False
    given = [k for k, v in arguments.items()
             if not (isinstance(properties.get(k), dict) and "default" in properties[k] and properties[k]["default"] == v)]
    return len(given) <= 1 and all(id_entity(k) is not None for k in given) and bool(set(properties) - set(arguments))


def reads_many(name: str) -> bool:
    """The call returns a collection: a list verb (`EVENTS_LIST`, `search_issues`), or a read
    verb on a plural noun (`get_cards_in_list`, `GET_TASKS`)."""
    if name_action(name) == "list":
        return True
    ws = words(name)
    for i, w in enumerate(ws[:-1]):
        if w in READ_VERBS or w in LIST_VERBS:
            # The head of the noun phrase: its last word before a preposition (`GET_ACTIVE_TASKS`,
            # `GET_ALL_COMMENTS` -> tasks, comments; `get_cards_in_list` -> cards).
            phrase = []
            for word in ws[i + 1:]:
                if word in _PREPOSITIONS:
                    break
                phrase.append(word)
            noun = phrase[-1] if phrase else ws[i + 1]
            return noun.endswith("s") and not noun.endswith(("ss", "us", "is"))
    return False


_PREPOSITIONS = frozenset({"in", "by", "for", "from", "of", "on", "to", "with", "at", "under", "within"})


def _counts(arguments: dict | None) -> bool:
    """The call takes a number of things (`quantity`, `count`): it adjusts a stock, it does not
    destroy an object."""
    return any(snake(k) in ("quantity", "qty", "count", "units", "amount") and isinstance(v, (int, float))
               and not isinstance(v, bool) for k, v in (arguments or {}).items())


def _http_method_first(ws: list[str]) -> bool:
    """`post_crm_v3_extensions_cards_appId_create`: a name generated from an HTTP method and a
    path (OpenAPI without operationIds), whose first word is the method, not an action."""
    return len(ws) > 2 and ws[0] in ("get", "post", "put", "patch", "delete") and any(
        w == "api" or (w[:1] == "v" and w[1:].isdigit()) or w in ALL_VERBS for w in ws[1:])


def _detaches(ws: list[str], at: int) -> bool:
    """`remove_label_from_email`: the verb removes a part, not the object."""
    rest = ws[at + 1:]
    return bool(rest) and rest[0] in _DETACH_OBJECTS or "from" in rest


def destructive_kind(name: str, arguments: dict | None = None) -> str | None:
    """`delete`, `cancel`, `send`, `pay` or `refund` when the call destroys, reaches other
    people or moves money (`GMAIL_SEND_EMAIL` -> `send`, `stripe_create_refund` -> `refund`);
    None otherwise (`create_draft`, `remove_label_from_email`, `remove_bottles(quantity=2)`: an
    inventory count going down)."""
    ws = words(name)
    if any(w in ("draft", "drafts", "preview", "estimate", "quote", "upcoming") for w in ws):
        return None
    if _http_method_first(ws):
        ws = ws[1:] if ws[0] != "delete" else ws  # `post_crm_v3_..._create` creates; `delete_...` deletes
    for i, w in enumerate(ws):
        kind = _DESTRUCTIVE.get(w)
        if kind is None:
            continue
        if kind == "delete" and w == "remove" and (_detaches(ws, i) or _counts(arguments)):
            return None
        if kind == "send" and w == "post" and i + 1 < len(ws) and ws[i + 1] in ("comment", "comments"):
            continue  # a comment on one's own ticket is not an outgoing message
        return kind
    # `move_to_trash`, `trash_message`
    if "trash" in ws:
        return "delete"
    return None


def deletion_kind(name: str) -> str | None:
    """`permanent` (delete, remove), `soft` (trash, cancel, void, archive) or None."""
    ws = words(name)
    for i, w in enumerate(ws):
        if w in _PERMANENT and not (w == "remove" and _detaches(ws, i)):
            return "permanent"
        if w in _SOFT:
            return "soft"
    return None


def restores(name: str) -> bool:
    """The call brings a deleted, trashed or cancelled object back (`untrash_message`)."""
    return any(w in _RESTORE for w in words(name))


def state_set_by(name: str) -> str | None:
    """The state a call puts its object in: "open" (reopen, restore), "done" (close,
    complete), "canceled" (cancel); None for any other call."""
    if restores(name):
        return "open"
    ws = set(words(name))
    if ws & {"close", "complete", "resolve", "finish"}:
        return "done"
    if "cancel" in ws:
        return "canceled"
    return None


_SELF_WORDS = frozenset({"profile", "me", "whoami", "myself", "self"})


def about_self(name: str) -> bool:
    """A tool about the caller themselves: `GET_PROFILE`, `users.me`, `GET_CURRENT_USER`,
    `whoami` (its person is the user, not someone else)."""
    ws = set(words(name))
    return bool(ws & _SELF_WORDS) or {"current", "user"} <= ws or {"current", "member"} <= ws
