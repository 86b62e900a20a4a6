"""Tool failures of the kinds real APIs return, in the shape the tool's toolkit answers failures.

`problem(tool, args, kind, ...)` decides what went wrong and says it in words that name the
problem: the missing object and its id (`not_found`), what the caller may not do
(`permission_denied`), the offending argument and why (`validation_error`), how many seconds to
wait (`rate_limit`), what the call collides with (`conflict`). `failure_response(schema,
problem)` puts it in the shape the tool's output schema implies:

- a schema with a success flag (`successful`, `success`, `ok`: Composio-style tools) ->
  `{"successful": false, "error": "404 Not Found: Task '123' was not found.", "data": {}}`
  (`data` only where the schema requires it; an `error` typed as an object gets the object form
  below);
- any other schema -> `{"error": {"code": 404, "status": "NOT_FOUND", "message": "..."}}`, as
  Google and most REST APIs answer, plus `retry_after` (seconds) for a rate limit.

The response is what a failed call returns, not an instance of the success schema: it reports
failure the way `quality.detectors.honesty.failure` reads one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from funcdex_assets.catalog.actions import deletion_kind, name_action
from funcdex_assets.catalog.fields import classify, input_slots, snake, tool_entity
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.validator import schema_validator
from funcdex_assets.offline.language import humanize, request_phrase
from funcdex_assets.quality.dates import parse_time

FAILURE_KINDS = ("not_found", "permission_denied", "validation_error", "rate_limit", "conflict")
# kind -> (HTTP status, status word, reason phrase)
_HTTP = {
    "not_found": (404, "NOT_FOUND", "Not Found"),
    "permission_denied": (403, "PERMISSION_DENIED", "Forbidden"),
    "validation_error": (400, "INVALID_ARGUMENT", "Bad Request"),
    "rate_limit": (429, "RESOURCE_EXHAUSTED", "Too Many Requests"),
    "conflict": (409, "CONFLICT", "Conflict"),
}
_SUCCESS_FLAGS = ("successful", "success", "ok")
_LABEL_ARGS = ("name", "title", "summary", "subject", "label_name", "display_name", "content", "file_name")
_VERB_WORDS = {"create": "create", "update": "change", "delete": "delete", "list": "list", "get": "read"}


@dataclass(frozen=True)
class Problem:
    """What went wrong with one call: `kind` (one of FAILURE_KINDS), `message` (a sentence that
    names the problem), the argument at fault (validation errors; the id that was not found or is
    off limits), and for rate limits the seconds to wait."""

    kind: str
    message: str
    http_status: int
    status: str
    argument: str | None = None
    retry_after: int | None = None


def problem(tool: Tool, args: dict[str, Any], kind: str, rng, now: datetime, argument: str | None = None,
            state: str | None = None) -> Problem:
    """The problem of `kind` for a call of `tool` with `args`. `argument` names the argument at
    fault where the caller knows it: the id that is missing, off limits or in conflict, or the
    invalid value (else one is chosen: for ids the call's own object, for validation a real
    defect of the arguments when they have one: a schema violation, a missing required value, an
    end before its start, a start in the past; else the first required value); `state` says why a write conflicts (`cancelled`:
    the object was cancelled before; `already cancelled`: it is in the state the call would put it in). Draws from `rng` only for the rate limit's wait.
    Raises ValueError for an unknown kind."""
    if kind not in _HTTP:
        raise ValueError(f"unknown failure kind {kind!r}; expected one of {', '.join(FAILURE_KINDS)}")
    code, status, _ = _HTTP[kind]
    action = name_action(tool.original_name)
    target_arg, target = _target(tool, args)
    if argument is not None and argument in args and kind != "validation_error":
        target_arg, target = argument, args[argument]  # the id the caller says is missing or off limits
    noun = humanize(_entity_of(target_arg, tool))
    named = f"{noun} {target!r}" if target is not None else f"the {noun}"
    if kind == "not_found":
        message = f"{named[0].upper()}{named[1:]} was not found."
        return Problem(kind, message, code, status, argument=target_arg)
    if kind == "permission_denied":
        verb = "delete" if deletion_kind(tool.original_name) else _VERB_WORDS.get(action, "use")
        own = humanize(tool_entity(tool.original_name))
        if action == "create" or (own and own != noun and noun.split()[-1] not in own.split()):
            # What the call would do, on whose object: creating a payment intent for customer X
            # is not "creating customer X".
            message = f"The authenticated user does not have permission to {request_phrase(tool)}" + (
                f" for {named}." if target is not None and own != noun else ".")
        else:
            message = f"The authenticated user does not have permission to {verb} {named}."
        return Problem(kind, message, code, status, argument=target_arg)
    if kind == "rate_limit":
        wait = rng.choice((2, 5, 10, 15, 30, 60))
        message = f"Rate limit exceeded for {tool.name}: too many requests. Retry after {wait} seconds."
        return Problem(kind, message, code, status, retry_after=wait)
    if kind == "conflict":
        label_arg = next((k for k in args if snake(k) in _LABEL_ARGS and isinstance(args[k], str)), None)
        if state and state.startswith("already "):
            message = f"{named[0].upper()}{named[1:]} is {state}."  # "... is already cancelled."
        elif state:
            message = f"{named[0].upper()}{named[1:]} is {state} and can no longer be changed."
        elif action == "create" and label_arg:
            noun = humanize(tool_entity(tool.original_name))
            message = f"{_a(noun)[0].upper()}{_a(noun)[1:]} named {args[label_arg]!r} already exists."
            return Problem(kind, message, code, "ALREADY_EXISTS", argument=label_arg)
        else:
            message = (f"{named[0].upper()}{named[1:]} was changed by another request since it was read; "
                       "fetch it again and retry.")
        return Problem(kind, message, code, status, argument=target_arg)
    arg, why = _invalid(tool, args, argument, now)
    return Problem(kind, f"Invalid value for '{arg}': {why}." if arg else f"Invalid request: {why}.",
                   code, status, argument=arg)


def failure_response(output_schema: dict[str, Any], p: Problem) -> dict[str, Any]:
    """`p` in the failure shape `output_schema` implies (see the module docstring)."""
    props = output_schema.get("properties") if isinstance(output_schema.get("properties"), dict) else {}
    required = set(output_schema.get("required") or [])
    code, _, reason = _HTTP[p.kind]
    detail: dict[str, Any] = {"code": p.http_status, "status": p.status, "message": p.message}
    if p.retry_after is not None:
        detail["retry_after"] = p.retry_after
    flag = next((k for k in props if snake(k) in _SUCCESS_FLAGS and isinstance(props[k], dict)
                 and props[k].get("type") == "boolean"), None)
    if flag is None:
        return {"error": detail}
    out: dict[str, Any] = {flag: False}
    error_key = next((k for k in props if snake(k) in ("error", "error_message")), "error")
    error_schema = props.get(error_key) if isinstance(props.get(error_key), dict) else {}
    out[error_key] = detail if error_schema.get("type") == "object" else f"{code} {reason}: {p.message}"
    for key in props:
        if key in required and key not in out:
            out[key] = {} if (props[key] or {}).get("type") in ("object", None) else None
    return out


def _target(tool: Tool, args: dict[str, Any]) -> tuple[str | None, Any]:
    """(argument, value) of the id the call is about: the last id argument naming the tool's
    own entity, else the last id argument (`calendarId, eventId` -> eventId)."""
    ids = [s for s in input_slots(tool.input_schema, tool.original_name)
           if s.kind == "id" and s.name in args and isinstance(args[s.name], (str, int))
           and str(args[s.name]).lower() not in ("me", "primary", "self")]
    if not ids:
        return None, None
    own = [s for s in ids if s.key == f"{tool_entity(tool.original_name)}_id"]
    slot = (own or ids)[-1]
    return slot.name, args[slot.name]


def _entity_of(arg: str | None, tool: Tool) -> str:
    if arg is None:
        return tool_entity(tool.original_name)
    kind, key = classify(arg, (tool.input_schema.get("properties") or {}).get(arg) or {}, tool_entity(tool.original_name))
    return key[:-3] if kind == "id" and key.endswith("_id") else snake(arg)


def _invalid(tool: Tool, args: dict[str, Any], argument: str | None, now: datetime) -> tuple[str | None, str]:
    """(argument, why it is invalid)."""
    props = tool.input_schema.get("properties") or {}
    if argument is not None:
        return argument, _why(argument, args.get(argument), props.get(argument) or {}, now)
    errors = sorted(schema_validator(tool.input_schema).iter_errors(args), key=lambda e: e.json_path)
    for error in errors:
        if error.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            return (missing[0] if missing else None), "this field is required"
        if error.path:
            return str(error.path[0]), error.message
    flat = _flat(args)  # start.dateTime is the start's time
    times = {k: parse_time(v, numeric=True) for k, v in flat.items()}
    for key, t in times.items():
        words = set(snake(key).split("_"))
        partner = _counterpart(key, flat)
        if t and partner and times.get(partner) and words & {"end", "max", "until", "to", "due"} \
                and times[partner].moment > t.moment:
            return key, f"{flat[key]!r} is before {partner} {flat[partner]!r}; it must come after it"
    for key, t in times.items():
        if t and set(snake(key).split("_")) & {"start", "due", "send", "post", "scheduled"} and t.moment < now:
            return key, f"{flat[key]!r} is in the past"
    required = [k for k in tool.input_schema.get("required") or [] if k in args]
    scalars = [k for k in required if not isinstance(args[k], (dict, list))] or \
              [k for k in args if not isinstance(args[k], (dict, list))]
    if not scalars:
        return None, "the request body could not be parsed"
    key = scalars[0]
    return key, _why(key, args[key], props.get(key) or {}, now)


def _why(key: str, value: Any, schema: dict[str, Any], now: datetime) -> str:
    """Why the server would refuse this value of `key`, by what kind of value it is."""
    kind, _ = classify(key, schema, "")
    shown = repr(value) if value is not None else "nothing"
    if value is None:
        return "this field is required"
    if schema.get("enum"):
        return f"{shown} is not accepted here; use one of {', '.join(map(str, schema['enum']))}"
    if kind == "id":
        return f"{shown} is not a valid {humanize(snake(key))}"
    if kind == "email":
        return f"{shown} is not a deliverable email address"
    t = parse_time(value, numeric=True)
    if t:
        return f"{shown} is outside the range this call accepts" if t.moment >= now else f"{shown} is in the past"
    if isinstance(value, bool):
        return f"{shown} cannot be combined with the other arguments"
    if isinstance(value, (int, float)):
        return f"{shown} is out of range"
    if isinstance(value, str) and not value.strip():
        return "it must not be empty"
    return f"{shown} is not in a format this call accepts"


def _counterpart(key: str, args: dict[str, Any]) -> str | None:
    swaps = {"end": "start", "max": "min", "until": "since", "to": "from", "due": "start"}
    ws = snake(key).split("_")
    for i, w in enumerate(ws):
        if w in swaps:
            other = "_".join(ws[:i] + [swaps[w]] + ws[i + 1:])
            return next((k for k in args if snake(k) == other), None)
    return None


def _flat(args: dict[str, Any]) -> dict[str, Any]:
    """Scalar arguments by dotted name (`end.dateTime`)."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items() if not isinstance(v, (dict, list))})
        elif not isinstance(value, list):
            out[key] = value
    return out


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
