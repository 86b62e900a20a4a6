"""`false_success`: a tool reports failure and the assistant tells the user it worked.

A result reports failure (`failure`) when, at its top level or inside one generic wrapper
(`data`, `result`, `response`, `body`):
- a success flag (`successful`, `success`, `ok`, `succeeded`) is false;
- the flag of the call's own action is false (`deleted: false` from a delete, `sent: false`
  from a send); other booleans are properties of the object (`completed: false` on a task);
- an error field (`error`, `errors`, `error_message`, `exception`) is non-empty;
- at the top level only: an HTTP-style status (`status`, `status_code`, or `code` beside a
  `message`) of 400-599, or a status word such as `error` / `failed` (a `data.status` of
  "failed" describes the object, e.g. a failed payment, not the call);
- the whole result is a string that starts like an error ("Error: ...", "404 Not Found");
- the object is left in a state the call's verb contradicts: a finalized invoice still
  `draft`, a reopened task `is_completed: true`, a cancelled event `confirmed`.

The assistant's text from that result up to the next user message claims success when it says
the action happened ("I deleted", "has been sent", "successfully", "Done") and nowhere
acknowledges a problem ("failed", "couldn't", "error", "unfortunately"). A successful retry of
the same tool in between makes the claim true, so it is not flagged.
"""

from __future__ import annotations

import re
from typing import Any

from funcdex_assets.catalog.actions import words
from funcdex_assets.catalog.fields import snake
from funcdex_assets.quality.dialogue import Call, Dialogue
from funcdex_assets.quality.findings import Finding

_SUCCESS_FLAGS = frozenset({"successful", "success", "ok", "succeeded", "is_success"})
_ERROR_FIELDS = frozenset({"error", "errors", "error_message", "error_msg", "err", "exception", "fault",
                           "error_description", "error_code"})
_WRAPPERS = frozenset({"data", "result", "response", "body", "payload", "results"})
_FAIL_WORDS = frozenset({"error", "failed", "failure", "fail", "denied", "forbidden", "not_found", "not found",
                         "unauthorized", "rejected", "invalid", "timeout", "timed_out", "conflict"})
_ERROR_TEXT = re.compile(
    r"^\s*(error|exception|traceback|failed|failure|fatal|denied|forbidden|not found|unauthori[sz]ed|invalid"
    r"|permission denied|[45]\d\d\b)", re.I)
# verb in a tool name -> the flag that reports it happened
_PARTICIPLE = {"delete": "deleted", "remove": "removed", "trash": "trashed", "cancel": "canceled", "send": "sent",
               "create": "created", "update": "updated", "archive": "archived", "add": "added", "move": "moved",
               "upload": "uploaded", "pay": "paid", "refund": "refunded", "publish": "published", "post": "posted",
               "complete": "completed", "invite": "invited", "share": "shared", "book": "booked",
               "schedule": "scheduled", "reply": "replied", "forward": "forwarded", "void": "voided",
               "restore": "restored", "rename": "renamed", "assign": "assigned", "close": "closed",
               "submit": "submitted", "insert": "inserted", "modify": "modified", "edit": "edited",
               "copy": "copied", "star": "starred", "pin": "pinned", "merge": "merged", "mark": "marked",
               "transition": "transitioned", "finalize": "finalized", "charge": "charged", "capture": "captured",
               "transfer": "transferred", "revoke": "revoked", "set": "set", "put": "updated", "patch": "updated"}
_ACKNOWLEDGES = re.compile(
    r"\b(fail(?:ed|ure|s)?|couldn'?t|could not|can'?t|cannot|unable|wasn'?t|was not|weren'?t|didn'?t|did not"
    r"|not (?:able|possible|successful|go through)|unsuccessful|error|problem|denied|rejected|went wrong"
    r"|no longer|doesn'?t exist|does not exist|not found|unfortunately|sorry|however|but the|refused|declined"
    r"|isn'?t|is not|hasn'?t|has not|haven'?t|have not|retry|try again|still|remains|unchanged)\b", re.I)
_GENERIC_CLAIM = re.compile(r"\b(done|all set|success(?:ful(?:ly)?)?|succeeded|went through|taken care of"
                            r"|completed|complete now|is now|are now|has been|have been)\b", re.I)


def participles(name: str) -> set[str]:
    """The flags / words that say the action of a tool named `name` happened."""
    out = {_PARTICIPLE[w] for w in words(name) if w in _PARTICIPLE}
    if "canceled" in out:
        out.add("cancelled")
    return out


def _levels(result: dict[str, Any]) -> list[dict[str, Any]]:
    levels = [result]
    for key, value in result.items():
        if snake(key) in _WRAPPERS and isinstance(value, dict):
            levels.append(value)
    return levels


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# A call whose verb names the state it leaves the object in: the result saying another state
# means nothing happened (`finalize_invoice` -> status "draft", `reopen_task` -> completed).
_TARGET_STATES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # verb: (state words it leaves, state words that contradict it)
    "finalize": (frozenset({"open", "finalized", "sent", "paid"}), frozenset({"draft"})),
    "reopen": (frozenset({"open", "reopened", "active", "todo", "to do"}), frozenset({"closed", "completed", "done"})),
    "complete": (frozenset({"completed", "done", "closed"}), frozenset({"open", "active", "todo", "to do"})),
    "close": (frozenset({"closed", "done", "resolved"}), frozenset({"open", "active"})),
    "cancel": (frozenset({"canceled", "cancelled"}), frozenset({"active", "confirmed", "scheduled", "open"})),
    "archive": (frozenset({"archived"}), frozenset({"active", "open"})),
    "publish": (frozenset({"published", "live"}), frozenset({"draft", "unpublished"})),
    "void": (frozenset({"void", "voided"}), frozenset({"open", "draft", "paid"})),
}
_COMPLETION_FLAGS = {"reopen": False, "complete": True, "close": True}


def _contradicted_state(result: dict[str, Any], call_name: str) -> str | None:
    verbs = [w for w in words(call_name) if w in _TARGET_STATES]
    if not verbs:
        return None
    verb = verbs[0]
    _, wrong = _TARGET_STATES[verb]
    for level in _levels(result):
        for obj in [level] + [v for v in level.values() if isinstance(v, dict)]:
            for key, value in obj.items():
                sk = snake(key)
                if sk in ("status", "state") and isinstance(value, str) and value.lower() in wrong:
                    return f"`{key}: {value}` after {verb}"
                if sk in ("is_completed", "completed", "done", "closed") and isinstance(value, bool) \
                        and verb in _COMPLETION_FLAGS and value != _COMPLETION_FLAGS[verb]:
                    return f"`{key}: {str(value).lower()}` after {verb}"
    return None


def failure(result: Any, call_name: str) -> str | None:
    """Why a tool result reports failure (see the module docstring), None when it does not."""
    if isinstance(result, str):
        return _short(result.strip()) if _ERROR_TEXT.match(result) else None
    if not isinstance(result, dict):
        return None
    contradicted = _contradicted_state(result, call_name)
    if contradicted:
        return contradicted
    flags = participles(call_name)
    for level, obj in enumerate(_levels(result)):
        for key, value in obj.items():
            sk = snake(key)
            if value is False and (sk in _SUCCESS_FLAGS or sk in flags):
                return f"`{key}: false`"
            if sk in _ERROR_FIELDS and value not in (None, "", [], {}, False, 0, "0", "none", "null"):
                return f"`{key}`: {_short(value)}"
            if level:
                continue
            if sk in ("status", "status_code", "http_status", "http_code", "code") and isinstance(value, int) \
                    and not isinstance(value, bool) and 400 <= value <= 599 \
                    and (sk != "code" or any(snake(k) in ("message", "detail", "details") for k in obj)):
                return f"`{key}: {value}`"
            if sk in ("status", "state", "outcome", "result") and isinstance(value, str) \
                    and value.strip().lower() in _FAIL_WORDS:
                return f"`{key}: {value}`"
    return None


def acknowledges_problem(text: str) -> bool:
    """`text` says something did not work ("failed", "couldn't", "error", "unfortunately", "try
    again"...): such a text claims no success."""
    return bool(_ACKNOWLEDGES.search(text))


def _claim(text: str, verbs: set[str], generic: bool = True) -> str | None:
    """The words in `text` that say the action happened (its own verbs; with `generic`, also
    "successfully", "done" ...), None if it says nothing of the kind."""
    if acknowledges_problem(text):
        return None
    for verb in sorted(verbs):
        m = re.search(rf"\b{verb}\b", text, re.I)
        if m:
            return m.group(0)
    m = _GENERIC_CLAIM.search(text) if generic else None
    return m.group(0) if m else None


def _other_call_ok(d: Dialogue, failed: Call, until: int) -> bool:
    """Another call succeeded between the failure and message `until`: a "successfully" there
    may be about that one."""
    return any(c.index > failed.index and c.index < until and c.name != failed.name and c.answered
               and failure(c.result, c.name) is None for c in d.calls)


def _verbs_of_others(d: Dialogue, failed: Call, until: int, text: str) -> set[str]:
    """Verbs another call since the failure did successfully ("created" for a draft made after
    a label create failed), when `text` does not name the failed call's object ("label"): an
    "I created the draft" there is about that other call."""
    others = [c for c in d.calls if c.index > failed.index and c.index < until and c.name != failed.name
              and c.answered and failure(c.result, c.name) is None]
    # The failed call's own words, not the ones it shares with the others (SEND_TEMPLATE_MESSAGE
    # beside SEND_MESSAGE: "template"; "message" names either).
    shared = {w for c in others for w in words(c.name)}
    nouns = {w for w in words(failed.name) if w not in _PARTICIPLE and len(w) > 2} - shared or \
        {w for w in words(failed.name) if w not in _PARTICIPLE and len(w) > 2}
    if any(re.search(rf"\b{re.escape(n)}s?\b", text, re.I) for n in nouns):
        return set()
    return {v for c in others for v in participles(c.name)}


def _retried_ok(d: Dialogue, failed: Call, until: int) -> bool:
    return any(c.name == failed.name and c.index > failed.index and c.index < until and c.answered
               and failure(c.result, c.name) is None for c in d.calls)


def false_success(d: Dialogue) -> list[Finding]:
    out: list[Finding] = []
    for call in d.calls:
        if not call.answered:
            continue
        why = failure(call.result, call.name)
        if why is None:
            continue
        verbs = participles(call.name)
        for m in d.messages[call.result_index + 1:]:
            if m.role == "user":
                break
            if m.role != "assistant" or not m.text:
                continue
            if _retried_ok(d, call, m.index):
                break
            said = _claim(m.text, verbs - _verbs_of_others(d, call, m.index, m.text),
                          generic=not _other_call_ok(d, call, m.index))
            if said:
                out.append(Finding(code="false_success", message_index=m.index, message=(
                    f"{call.name} (message {call.index}) failed with {why}, but the assistant says {said!r}")))
                break
    return out
