"""`implausible_denial`: a tool refuses the user permission over something the conversation
shows is theirs to change.

A call whose result is a failure (`honesty.failure`) that speaks of permission (a 403,
"Forbidden", "does not have permission", "access denied", "not allowed") is implausible when
what it acts on is:
- made by an earlier successful call of the conversation (its result's own id: the document the
  user created, then may not put bullets in);
- named by an earlier successful call that changed something (a create in that project, an
  update or a close of that task): who just wrote there may write there;
- the user's own default (`primary`, `me`): their own calendar, their own mailbox;
- nothing at all (a create with no container) after the same service let the user create
  something else.

A model trained on these learns that services refuse at random and that "ask the owner" is the
answer to a user's own objects. A refusal on something a listing or the user's words brought
(someone else's issue, a shared drive) is left alone.
"""

from __future__ import annotations

import re

from funcdex_assets.catalog.actions import name_action
from funcdex_assets.quality.detectors.honesty import failure
from funcdex_assets.quality.detectors.lifecycle import _made_id, object_ids
from funcdex_assets.quality.dialogue import Dialogue
from funcdex_assets.quality.findings import Finding

_DENIED = re.compile(r"\b403\b|forbidden|permission[_ ]denied|(?:does not|doesn't|do not|don't) have (?:the )?permission"
                     r"|no permission|access denied|not allowed to|insufficient (?:scope|rights|privileges|permissions)", re.I)
_OWN = frozenset({"primary", "me", "self"})


def _service(name: str) -> str:
    return name.split("_", 1)[0] if name.isupper() and "_" in name else ""


def implausible_denial(d: Dialogue) -> list[Finding]:
    found: list[Finding] = []
    made: dict[str, int] = {}  # id -> message index of the successful call that made it
    written: dict[str, int] = {}  # id -> message index of a successful changing call naming it
    creates: dict[str, int] = {}  # service -> a successful create of it
    for call in d.calls:
        if call.arguments_error or not call.answered:
            continue
        why = failure(call.result, call.name)
        ids = object_ids(d, call)
        if why is None:
            action = name_action(call.name)
            if action in ("create", "update", "delete"):
                for value in ids:
                    written.setdefault(value, call.index)
            if action == "create":
                creates.setdefault(_service(call.name), call.index)
                new = _made_id(call)
                if new:
                    made.setdefault(new, call.index)
            continue
        if not _DENIED.search(why + " " + str(call.result)[:400]):
            continue
        own = sorted(str(v) for v in call.arguments.values() if isinstance(v, str) and v.lower() in _OWN)
        reason = None
        hit = next((v for v in sorted(ids) if v in made), None)
        if hit is not None:
            reason = f"{hit} was made by the call at message {made[hit]}"
        elif (hit := next((v for v in sorted(ids) if v in written), None)) is not None:
            reason = f"the call at message {written[hit]} already changed {hit}"
        elif own:
            reason = f"it acts on the user's own '{own[0]}'"
        elif not ids and name_action(call.name) == "create" and _service(call.name) in creates:
            reason = f"the same service let the user create at message {creates[_service(call.name)]}"
        if reason:
            found.append(Finding(code="implausible_denial", message_index=call.index, message=(
                f"{call.name} is refused permission, but {reason}")))
    return found
