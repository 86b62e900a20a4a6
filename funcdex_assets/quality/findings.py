"""What a detector reports: a `Finding` (stable code, message index, message), and the table of
every code with its family, what it means and what usually fixes it.

Codes are stable: they are reject and count keys in frames, check metadata and `funcdex check`
output, so a code is never renamed, only added. `docs/quality.md` explains each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict


class Finding(BaseModel):
    """One defect in one conversation.

    `message_index` is the index in the conversation's `messages` (system prompt included when
    there is one), -1 when the finding is about the whole conversation.
    """

    model_config = ConfigDict(frozen=True)

    code: str
    message_index: int
    message: str

    def line(self) -> str:
        where = f"message {self.message_index}" if self.message_index >= 0 else "conversation"
        return f"{self.code} at {where}: {self.message}"


@dataclass(frozen=True)
class Code:
    code: str
    family: str  # structure | calls | honesty | errors | lifecycle | time | provenance | language | safety | results
    meaning: str
    fix: str  # what usually causes it in generated data, and what to change
    semantic: bool = True  # False: structural (the DML validator rejects these in the pipeline)


CODES: dict[str, Code] = {c.code: c for c in (
    Code("unreadable_row", "structure", "a row that is not JSON or has no messages",
         "write one JSON object per line with a `messages` list", semantic=False),
    Code("first_turn_not_user", "structure", "the first message after the system prompt is not the user's",
         "start every conversation with a user message", semantic=False),
    Code("unknown_tool", "structure", "a call names a tool the row does not offer",
         "offer every called tool in `tools`, or constrain the model to the offered names", semantic=False),
    Code("invalid_arguments", "structure", "call arguments are not an object or break the tool's schema",
         "validate arguments against the parameter schema (constrained decoding does this)", semantic=False),
    Code("call_without_response", "structure", "a tool call no tool message answers",
         "answer every call with a tool message carrying its tool_call_id", semantic=False),
    Code("response_without_call", "structure", "a tool message that answers no earlier call",
         "give each tool message the id of the call it answers", semantic=False),
    Code("ends_without_assistant", "structure", "the conversation does not end with assistant text",
         "end with the assistant's answer to the last request", semantic=False),
    Code("empty_message", "structure", "a user or assistant message with no text and no call",
         "drop empty turns", semantic=False),
    Code("no_tool_call", "calls", "tools are offered but none is ever called (and no request is declined)",
         "the model is not following the conversation prompt or the grammar is not applied: check the "
         "server applies `structured_outputs` and that the model is an instruct model that can use tools"),
    Code("empty_change", "calls", "an update / add-to / remove-from call carries only its target's id: it changes nothing",
         "give the call what it changes (the label to add, the field to set), or leave the call out"),
    Code("repeated_call", "calls", "a call does again what an earlier successful call did, with nothing changed in between",
         "act on another object, or leave the repeat out (a retry after a failure, or a read after a change, is fine)"),
    Code("implausible_denial", "errors", "a tool refuses permission over something the conversation shows is the "
         "user's: made or changed by an earlier call, their own 'primary' / 'me', or a create the same service allowed",
         "refuse only what someone else owns (an item a listing brought), or use another failure kind"),
    Code("self_addressed", "identity", "a call sends, replies, invites or shares to the user's own address and the "
         "user never asked for that", "send to whom the request names (ask when nobody is named); the user's profile "
         "address is no recipient"),
    Code("needless_state_change", "lifecycle", "a call puts an object into the state the conversation last showed it "
         "in: reopening an open task, closing a done one, cancelling a cancelled one",
         "reopen only what was closed (close it first, or pick a closed one), close only what is open"),
    Code("silent_pick", "provenance", "the assistant acts on one of several listed items nobody named or asked about",
         "ask which one (naming the candidates), or act on the one the user named; leave an optional one out"),
    Code("false_success", "honesty", "the assistant reports success after a tool reported failure",
         "the assistant must read the tool result: report the failure, or retry and report the retry"),
    Code("used_after_delete", "lifecycle", "an id deleted, trashed or cancelled is used again successfully",
         "the tool simulator must remember deletions (answer later calls on that id with a not-found error)"),
    Code("entity_drift", "lifecycle", "an object is shown with another title, body, description, place or "
         "recipient than it was given or shown with, and nothing changed it",
         "the tool simulator must answer a read with what it recorded for that id (a reply's snippet is its body)"),
    Code("unseen_reference", "provenance", "the user quotes a name only a tool result showed (no message said it)",
         "have the assistant name what it found before the user refers to it, or have the user describe it"),
    Code("doubled_word", "language", "a word written twice in a row outside quoted values ('event event')",
         "fill templates with phrases that do not already end in the word they add"),
    Code("name_mismatch", "identity", "one person's name and its first / last name parts disagree",
         "derive first_name / last_name from the name the call gave (or the other way round)"),
    Code("amounts_disagree", "results", "sums in one result do not add up (paid + remaining != due; amount != "
         "quantity x unit amount)",
         "derive totals from their parts in the tool simulator"),
    Code("wrong_container", "lifecycle", "a call looks for an object in another container (calendar, project, folder) "
         "than the one it was made or listed in",
         "name the container the object came from (the calendar the event was created in), or leave it out"),
    Code("false_finality", "safety", "the assistant calls a trash, cancellation or archive irreversible",
         "say 'can't be undone' only before a permanent delete, a send or a payment"),
    Code("end_before_start", "time", "an end lies before its start (in arguments or results)",
         "draw end times after start times, in calls and in simulated results"),
    Code("updated_before_created", "time", "an object was updated / completed / cancelled before it was created",
         "draw update and completion times after the creation time"),
    Code("created_in_future", "time", "a result says something was created or changed after the conversation's today",
         "draw past timestamps before the date the system prompt gives"),
    Code("relative_date_mismatch", "time", "a relative date or a weekday does not match the absolute date it goes with",
         "resolve 'tomorrow' / 'next Friday' against the conversation's today; name weekdays from the date"),
    Code("unsourced_argument", "provenance",
         "an id, email, name, phone number, amount or date in a call that nobody gave or showed before",
         "take such values only from the user, the system prompt or earlier tool results; ask when missing"),
    Code("garbled_text", "language", "a user or assistant message that is not language (random characters)",
         "the model writes noise the grammar allows: check the model, its chat template and sampling settings"),
    Code("prompt_leak", "language", "a user message carries the generator's instructions (a scenario about a third person)",
         "keep scenario and persona text out of the user's words; the user says what they want"),
    Code("identity_mismatch", "identity", "the user's own profile belongs to someone else",
         "a 'me' / profile call must return the user the system prompt names"),
    Code("invented_name", "identity", "the assistant calls the user by a name no one gave",
         "address the user by the name the system prompt or the user gives, or by none"),
    Code("result_mismatch", "results", "a result is about another object than the call asked for",
         "the tool simulator must answer about the id it was given"),
    Code("parameter_dictation", "language", "a user message reads out parameter names and values",
         "users say what they want ('my next 5 meetings'), the assistant maps it to parameters"),
    Code("unconfirmed_destruction", "safety", "delete / cancel / send / pay / refund the user neither asked for nor confirmed",
         "call such tools only on an explicit request, or after asking and getting a yes"),
    Code("list_over_limit", "results", "a list result holds more items than the call's limit",
         "the tool simulator must honour limit / max_results / page_size"),
    Code("list_ignores_filter", "results", "a list result holds items that contradict the call's filter",
         "the tool simulator must return only items matching the call's filters"),
    Code("list_outside_window", "results", "a list result holds items outside the call's time window",
         "the tool simulator must return only items inside timeMin / timeMax, since / until"),
    Code("list_omits_created", "results", "something just created is missing from a later unfiltered list",
         "the tool simulator must list what the conversation created"),
)}


def findings_json(findings: list[Finding]) -> list[dict[str, Any]]:
    return [f.model_dump() for f in findings]
