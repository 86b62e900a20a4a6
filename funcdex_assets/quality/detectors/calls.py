"""Calls that do nothing a user asked for.

- `no_tool_call`: tools are offered and the conversation never calls one. A conversation that
  shows the assistant declining a request no tool can serve is a legitimate no-tool example,
  and so is a row labelled with `metadata.no_tool_call_expected: true`; both are left alone.
- `empty_change`: a call that changes its object by its arguments (`catalog.actions.
  changes_by_arguments`: UPDATE_TASK, ADD_LABEL_TO_EMAIL) carries nothing but one id and
  documented defaults, while its tool takes more: "add a label" with no label, an update that
  sets nothing. A model learns to make calls that look busy and do nothing.
- `repeated_call`: a call that does again what an earlier call of the conversation already did,
  with nothing in between that could change the answer: the same tool with the same arguments
  (less how the result is shown: `format: full` does not make a new read), after the earlier
  call succeeded, and no changing call since (any verb but a known read or listing) names any
  of its ids in its arguments or its result (for a call with no ids: no changing call at all). "Fetch that message, then get
  the profile, and fetch that message" reads one message twice; finalizing an invoice twice
  does what is done. Left alone: a retry after a failure, a read after a change of the same
  object, polling something under way (`status: "pending"`), and a read after the user says
  the world moved on ("ok pushed the fix, green now?").
"""

from __future__ import annotations

import re

import json

from funcdex_assets.catalog.actions import LIST_VERBS, READ_VERBS, action_verb, changes_nothing
from funcdex_assets.catalog.fields import snake
from funcdex_assets.quality.detectors.honesty import failure
from funcdex_assets.quality.detectors.lifecycle import object_ids
from funcdex_assets.quality.dialogue import Call, Dialogue, iter_scalars
from funcdex_assets.quality.findings import Finding

DECLINE = re.compile(
    r"\b(can(?:no|')?t|cannot|unable to|not able to|don'?t have (?:a |the |any )?(?:tool|way|access|ability)"
    r"|no (?:tool|function|way)|outside (?:of )?(?:what|the scope)|not (?:something|possible|supported|available)"
    r"|i'?m (?:sorry|afraid)|unfortunately|beyond (?:my|what))\b", re.I)


def no_tool_call(d: Dialogue) -> list[Finding]:
    if not d.tools or d.calls:
        return []
    if d.metadata.get("no_tool_call_expected") is True or d.metadata.get("expect_tool_call") is False:
        return []
    if any(m.role == "assistant" and DECLINE.search(m.text) for m in d.messages):
        return []
    return [Finding(code="no_tool_call", message_index=-1, message=(
        f"{len(d.tools)} tool(s) offered, none called, and the assistant declines nothing"))]


def empty_change(d: Dialogue) -> list[Finding]:
    found: list[Finding] = []
    for call in d.calls:
        schema = d.tools.get(call.name) or {}
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        if call.arguments_error or not changes_nothing(call.name, call.arguments, props):
            continue
        found.append(Finding(code="empty_change", message_index=call.index, message=(
            f"{call.name} is called with only {', '.join(call.arguments) or 'no arguments'}: it changes nothing "
            f"(it also takes {', '.join(sorted(set(props) - set(call.arguments))[:4])})")))
    return found


# How a result is shown, not what it is about ("fetch that message" in full or in brief is one read).
_PRESENTATION = frozenset({"format", "fields", "view", "projection", "expand", "verbose", "pretty", "alt", "include",
                           "response_format", "metadata_headers", "user_id"})
# A state a later read may find changed (a deploy in progress, a queued run): reading again is polling.
_PENDING = re.compile(r'"(?:status|state|phase)"\s*:\s*"(?:pending|queued|in[_ ]progress|running|processing|'
                      r'deploying|scheduled|starting|waiting|creating|building)"', re.I)
# The user says the world moved on outside the conversation ("ok pushed the fix, green now?").
_MOVED_ON = re.compile(r"\b(?:again|still|any ?more|latest|refresh|re-?check|pushed|merged|fixed|reset|changed|updated|"
                       r"since then|by now|now that|try again|retry)\b", re.I)


def _result_ids(call: Call) -> set[str]:
    return {str(v) for _, v in iter_scalars(call.result) if isinstance(v, (str, int)) and not isinstance(v, bool)}


def _identity(call: Call) -> tuple[str, str]:
    """What makes two calls the same: the tool and its arguments, less how the result is shown."""
    kept = {k: v for k, v in call.arguments.items() if snake(str(k)) not in _PRESENTATION}
    return call.name, json.dumps(kept, sort_keys=True, default=str)


def _changes(name: str) -> bool:
    """Whether a call may change something: any verb but a known read or listing (an unknown
    one, `run_query`, may write)."""
    return action_verb(name) not in READ_VERBS | LIST_VERBS


def repeated_call(d: Dialogue) -> list[Finding]:
    found: list[Finding] = []
    calls = [c for c in d.calls if not c.arguments_error]
    for at, call in enumerate(calls):
        same = _identity(call)
        for earlier_at in range(at - 1, -1, -1):
            earlier = calls[earlier_at]
            if _identity(earlier) != same:
                continue
            if not earlier.answered or failure(earlier.result, earlier.name):
                break  # a retry after a failure (or of a call nothing answered)
            if isinstance(earlier.result, (dict, list)) and _PENDING.search(json.dumps(earlier.result)):
                break  # polling something under way
            said = [m.text for m in d.messages[earlier.index + 1:call.index] if m.role == "user"]
            if any(_MOVED_ON.search(text) for text in said):
                break  # the user says something changed since
            ids = object_ids(d, earlier)
            between = [c for c in calls[earlier_at + 1:at] if _changes(c.name)]
            # A change names what it touched in its arguments or its result (trashing a message
            # answers with its threadId: the thread changed).
            changed = any(ids & (object_ids(d, c) | _result_ids(c)) for c in between) if ids else bool(between)
            if not changed:
                found.append(Finding(code="repeated_call", message_index=call.index, message=(
                    f"{call.name} does again what the call at message {earlier.index} did"
                    f", with nothing changed in between")))
            break
    return found
