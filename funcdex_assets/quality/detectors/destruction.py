"""`unconfirmed_destruction`, `false_finality`.

`unconfirmed_destruction`: a call that deletes, cancels, sends, pays or refunds (by its name,
`catalog.actions.destructive_kind`) that the user neither asked for nor confirmed.

Asked for: an earlier user message uses a word for that kind of action ("delete", "get rid
of", "cancel", "call off", "send", "reply", "let Dana know", "pay", "refund"...). Confirmed: the
assistant asked ("Shall I cancel it?", "Do you want me to send this?", "Please confirm") and the
user's next message agrees ("yes", "go ahead", "sure", "please do").

`false_finality`: the assistant calls a trash, cancel or archive (`deletion_kind` soft, which a
restore takes back) final ("This can't be undone", "there's no undoing it") in the message
before the call.
"""

from __future__ import annotations

import re

from funcdex_assets.catalog.actions import deletion_kind, destructive_kind
from funcdex_assets.quality.dialogue import Call, Dialogue
from funcdex_assets.quality.findings import Finding

ASKED = {
    "delete": r"delet\w*|remov\w*|trash\w*|bin\b|erase\w*|get rid of|discard\w*|clear(?:ing)? out|clean(?:ing)? up"
              r"|purg\w*|wip\w*|drop\w*|destroy\w*|throw (?:it |them )?away|archiv\w*",
    "cancel": r"cancel\w*|call(?:ing)? off|void\w*|revok\w*|declin\w*|terminat\w*|scrap\w*|withdraw\w*|drop\w*"
              r"|not (?:going|coming|attending)|can'?t make it|won'?t make it|delet\w*|remov\w*",
    "send": r"send\w*|sent\b|e-?mail\w*|mail\b|messag\w*|text\b|texting|repl(?:y|ies|ying)|respond\w*|answer\w*"
            r"|forward\w*|post\w*|tell\w*|told\b|let \w+(?: \w+)? know|notify\w*|ping\w*|shar\w*|write (?:to|back)"
            r"|shoot\w*|invit\w*|announc\w*|dm\b|publish\w*|remind\w*|follow(?:ing)? up|reach out|contact\w*",
    "pay": r"pay\w*|paid\b|charg\w*|bill\w*|transfer\w*|purchas\w*|buy\w*|captur\w*|settl\w*|checkout|check out"
           r"|mov(?:e|ing) (?:\$|€|£|\d|money|funds|the money)|put \S*\s*(?:\$|€|£|\d)|send (?:\$|€|£|\d|money)|wire\w*"
           r"|deposit\w*|top(?:ping)? up|book\w*|order\w*|subscrib\w*|upgrad\w*|renew\w*",
    "refund": r"refund\w*|reimburs\w*|money back|credit (?:it |them )?back|return (?:the|their|her|his) (?:money|payment)",
}
_ASKED = {kind: re.compile(rf"\b(?:{pattern})", re.I) for kind, pattern in ASKED.items()}
_QUESTION = re.compile(r"\?|\b(shall i|should i|do you want|would you like|want me to|confirm|ok(?:ay)? to|"
                       r"go ahead|proceed|are you sure|before i)\b", re.I)
_YES = re.compile(r"\b(yes|yeah|yep|yup|ya|ja|sure|ok(?:ay)?|go ahead|please do|do it|confirm(?:ed)?|correct|"
                  r"absolutely|definitely|sounds good|that'?s (?:right|fine|correct)|affirmative|of course|"
                  r"go for it|book it|buy it|send it|delete it|cancel it|proceed)\b|^\W*(please|perfect|great|y)\b",
                  re.I)
_NO = re.compile(r"^\W*(no|nope|nah|don'?t|do not|wait|stop|hold on|not yet|never mind)\b", re.I)


def asked(d: Dialogue, call: Call, kind: str) -> bool:
    """An earlier user message asks for an action of `kind` (a `destructive_kind`: delete,
    cancel, send, pay, refund) in words a user would use."""
    return any(m.role == "user" and _ASKED[kind].search(m.text) for m in d.messages[:call.index])


def confirmed(d: Dialogue, call: Call) -> bool:
    """The last assistant text before the call asks, and the user's next message agrees."""
    earlier = d.messages[:call.index + 1]
    for i in range(len(earlier) - 1, -1, -1):
        m = earlier[i]
        if m.role == "assistant" and m.text and _QUESTION.search(m.text) and i < call.index:
            reply = next((x for x in d.messages[i + 1:call.index] if x.role == "user"), None)
            return reply is not None and bool(_YES.search(reply.text)) and not _NO.search(reply.text)
    return False


def unconfirmed_destruction(d: Dialogue) -> list[Finding]:
    out: list[Finding] = []
    for call in d.calls:
        kind = destructive_kind(call.name, call.arguments)
        if kind is None or asked(d, call, kind) or confirmed(d, call):
            continue
        out.append(Finding(code="unconfirmed_destruction", message_index=call.index, message=(
            f"{call.name} ({kind}) was neither asked for nor confirmed by the user")))
    return out


_FINAL = re.compile(r"\b(can(?:'|no)t be (?:undone|reversed|recovered)|cannot be (?:undone|reversed|recovered)|"
                    r"no undoing|irreversibl\w*|permanent(?:ly)?|it's done, it's done|for good)\b", re.I)


def false_finality(d: Dialogue) -> list[Finding]:
    out: list[Finding] = []
    for call in d.calls:
        if deletion_kind(call.name) != "soft":
            continue
        before = next((m for m in reversed(d.messages[:call.index + 1]) if m.role == "assistant" and m.text.strip()),
                      None)
        if before is not None and _FINAL.search(before.text):
            out.append(Finding(code="false_finality", message_index=before.index, message=(
                f"the assistant calls {call.name} final ({_FINAL.search(before.text).group(0)!r}), "
                "but a trash, cancellation or archive can be taken back")))
    return out
