"""Who the user is: `identity_mismatch` (the user's own profile belongs to someone else),
`invented_name` (the assistant calls the user by a name nobody gave), `name_mismatch` (one
person's name and its parts disagree) and `self_addressed` (a message, invite or share goes to
the user's own address though they never asked for that; below).

The user's name and email come from the system prompt ("Assistant for Joshua Olson", "The
signed-in customer is Sofia Marquez (sofia@...)") and from the user introducing themselves
("this is Steven Ho", "I'm Dana Ruiz", "Priya here"). A call about the caller themselves (a
name with `profile`, `me`, `current user`, `whoami`, or a call reading a user with a `user_id`
of "me") whose result
names a person with a different email, or with a name sharing no word with theirs, is an
identity mismatch; so is a second such call naming the user by another id than the first. An
assistant message that greets or thanks someone by a first name that
appears in no system prompt, user message or tool result invents the name.
"""

from __future__ import annotations

import re

from funcdex_assets.catalog.actions import about_self
from funcdex_assets.catalog.fields import snake
from funcdex_assets.quality.detectors.values import EMAIL, EMAIL_IN_TEXT
from funcdex_assets.quality.dialogue import Call, Dialogue, contains_word, iter_objects, iter_scalars
from funcdex_assets.quality.findings import Finding

_NAME = r"([A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+){1,2})"
_WHO = [re.compile(p) for p in (
    rf"\b(?:[Aa]ssistant|[Aa]ssisting|[Hh]elping|[Tt]alking with|[Ss]peaking with|[Ww]orking for|[Ss]igned-in \w+ is|"
    rf"[Uu]ser is|[Cc]ustomer is|[Mm]ember is|[Tt]raveler is|[Pp]atient|[Ee]mployee) (?:for |with |to )?{_NAME}",
    rf"\b(?:[Tt]his is|I'm|I am|[Mm]y name is|[Nn]ame's) {_NAME}",
    rf"^(?:[Hh]i[,!]?|[Hh]ello[,!]?|[Hh]ey(?: there)?[,!]?)?\s*{_NAME} here\b",
)]
_PERSON_NAME_KEYS = frozenset({"name", "display_name", "full_name", "real_name", "user_name", "username"})
_ADDRESSED = re.compile(
    r"(?:^|[.!?]\s+)(?i:hi|hello|hey|thanks|thank you|you'?re (?:very )?welcome|welcome|anytime|bye|goodbye|cheers|"
    r"no problem|happy to help|glad (?:i|to) (?:could )?help|sure thing|of course|good (?:morning|afternoon|evening)"
    r"|have a (?:great|good|nice) (?:day|one|evening|week)),?\s+([A-Z][a-z]{2,})\b(?=[!.,])")
_NOT_NAMES = frozenset({"There", "Again", "Team", "Everyone", "All", "Folks", "Sir", "Madam", "Friend", "Today",
                        "Tomorrow", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"})


def _who(d: Dialogue) -> tuple[list[str], set[str]]:
    """(names, emails) the conversation gives for the user."""
    names: list[str] = []
    emails: set[str] = set()
    texts = [m.text for m in d.messages if m.role == "system"] + [m.text for m in d.messages if m.role == "user"][:2]
    for text in texts:
        for pattern in _WHO:
            names.extend(found for found in pattern.findall(text) if found not in names)
    for m in d.messages:
        if m.role == "system":
            emails.update(e.lower() for e in EMAIL_IN_TEXT.findall(m.text))
    return names, emails


_PERSON_WORDS = frozenset({"user", "users", "member", "members", "account", "person", "people"})


def _about_self(call: Call) -> bool:
    if about_self(call.name):
        return True
    # A `user_id` of "me" says whose data a call acts on (Gmail passes it to every call: a
    # label's `name` is no person's); it names the user only in a call that reads a user.
    return bool(set(snake(call.name).split("_")) & _PERSON_WORDS) and any(
        isinstance(v, str) and v.lower() == "me" and "user" in snake(k) for k, v in call.arguments.items())


def _own_id(call: Call) -> str | None:
    """The id of the caller's own object in a result about them (`user.uri`, `profile.id`)."""
    for path, obj in iter_objects(call.result):
        if "[]" in path:
            continue
        for key in ("uri", "id", "account_id", "accountId", "user_id", "userId"):
            if isinstance(obj.get(key), (str, int)) and not isinstance(obj.get(key), bool):
                return str(obj[key])
    return None


def identity_mismatch(d: Dialogue) -> list[Finding]:
    # One caller, one id: GET_CURRENT_USER answering with another uri the second time is
    # someone else.
    seen: tuple[str, int] | None = None
    for call in d.calls:
        if not call.answered or not about_self(call.name):
            continue
        own = _own_id(call)
        if own is not None and seen is not None and own != seen[0]:
            return [Finding(code="identity_mismatch", message_index=call.result_index, message=(
                f"{call.name} returns {own!r} as the user, but message {seen[1]} said the user is {seen[0]!r}"))]
        seen = seen or ((own, call.result_index) if own is not None else None)
    names, emails = _who(d)
    if not names and not emails:
        return []
    for call in d.calls:
        if not call.answered or not _about_self(call):
            continue
        shown_emails = {str(v).lower() for k, v in iter_scalars(call.result) if isinstance(v, str) and EMAIL.match(v)
                        and "email" in snake(k)}
        if emails and shown_emails and not shown_emails & emails:
            return [Finding(code="identity_mismatch", message_index=call.result_index, message=(
                f"{call.name} returns {sorted(shown_emails)[0]} as the user's own address; the user is "
                f"{sorted(emails)[0]}"))]
        if names:
            known = {w.lower() for name in names for w in name.split()}
            for path, obj in iter_objects(call.result):
                if "[]" in path:  # list items are the user's workspaces, teams, ...: not the user
                    continue
                for key, value in obj.items():
                    if snake(key) in _PERSON_NAME_KEYS and isinstance(value, str) and len(value.split()) >= 2 \
                            and not {w.lower() for w in value.split()} & known:
                        return [Finding(code="identity_mismatch", message_index=call.result_index, message=(
                            f"{call.name} returns {value!r} as the user; the user is {names[0]}"))]
    return []


def invented_name(d: Dialogue) -> list[Finding]:
    known = "\n".join(m.text for m in d.messages if m.role in ("system", "user")).lower()
    known += "\n" + "\n".join(str(v).lower() for m in d.messages if m.answers is not None
                              for _, v in iter_scalars(m.answers.result) if isinstance(v, str))
    for m in d.messages:
        if m.role != "assistant" or not m.text:
            continue
        for name in _ADDRESSED.findall(m.text):
            if name not in _NOT_NAMES and not contains_word(known, name.lower()):
                return [Finding(code="invented_name", message_index=m.index, message=(
                    f"the assistant calls the user {name!r}, a name no one gave"))]
    return []


def name_mismatch(d: Dialogue) -> list[Finding]:
    """`name_mismatch`: one person object whose parts disagree: `name: "Tammy Ortiz"` beside
    `first_name: "Ashley"`, `last_name: "Cardenas"`. One finding per result."""
    out: list[Finding] = []
    for call in d.calls:
        if not call.answered:
            continue
        for _, obj in iter_objects(call.result):
            parts = {snake(k): v for k, v in obj.items() if isinstance(v, str)}
            first, last = parts.get("first_name", ""), parts.get("last_name", "")
            full = next((parts[k] for k in ("name", "full_name", "display_name") if parts.get(k)), "")
            said = {w.lower() for w in full.split()}
            if first and last and len(said) >= 2 and not {first.lower(), last.lower()} <= said:
                out.append(Finding(code="name_mismatch", message_index=call.result_index, message=(
                    f"{call.name} result: name {full!r} but first_name {first!r}, last_name {last!r}")))
                break
    return out


_TO_WORDS = frozenset({"to", "recipient", "recipients", "cc", "bcc", "attendee", "attendees", "invitee", "invitees",
                       "guest", "guests"})
_SENDING = frozenset({"send", "reply", "forward", "invite", "share", "draft", "email"})
_TO_SELF = re.compile(r"\b(?:myself|to me|me a copy|send me|email me|cc me|copy me|my (?:own )?(?:address|inbox|email))\b",
                      re.I)


def self_addressed(d: Dialogue) -> list[Finding]:
    """`self_addressed`: a call that sends, replies, invites or shares to the user's own address
    (the system prompt's, or what a call about the user showed: their profile) when no user
    message gives that address or asks for a copy ("send me", "myself"). "Reply to the thread"
    answered by a reply to oneself teaches a model to pick the one address it is sure of."""
    _, own = _who(d)
    user_text = "\n".join(m.text for m in d.messages if m.role == "user")
    if _TO_SELF.search(user_text):
        return []
    out: list[Finding] = []
    for call in d.calls:
        if call.answered and _about_self(call):
            own |= {str(v).lower() for k, v in iter_scalars(call.result)
                    if isinstance(v, str) and EMAIL.match(v) and "email" in snake(k)}
            continue
        if not own or call.arguments_error:
            continue
        if not set(snake(call.name).split("_")) & _SENDING:
            continue  # a booking for the user, a listing by their address: about them, not to them
        for key, value in iter_scalars(call.arguments):
            words = set(snake(str(key)).split("_"))
            if not isinstance(value, str) or value.lower() not in own or value.lower() in user_text.lower():
                continue
            if words & _TO_WORDS or "email" in words:
                out.append(Finding(code="self_addressed", message_index=call.index, message=(
                    f"{call.name} sends to {value}, the user's own address, and the user never asked for that")))
                break
    return out
