"""Model-facing tool names and toolkit names.

Every tool gets a `name` the model sees and calls, valid as an OpenAI / vLLM function name
(`^[a-zA-Z0-9_-]{1,64}$`), while `original_name` keeps the name from the source file:

* Funcdex: `f"{TOOLKIT}_{tool_id}"` (Composio's convention, e.g. `GMAIL_FETCH_EMAILS`), unless
  `tool_id` already starts with the toolkit prefix (`GMAIL_SEND_EMAIL` stays as is).
* OpenAI / JSON-Schema lists: the name itself where valid. Otherwise every `.` becomes `__`
  (`weather.get_forecast` -> `weather__get_forecast`: the namespace stays visible and does
  not merge with the underscores inside words) and every other character outside
  `[a-zA-Z0-9_-]` becomes `_` (`get weather!` -> `get_weather_`).
* ToolBench: its own convention `f"{api}_for_{tool}"`, both parts standardised the way
  ToolBench does (snake case, lowercase, `get_` before a leading digit, reserved words such as
  `id` or `from` prefixed `is_`).

Names longer than 64 characters are cut to 55 and suffixed with `_` and the first 8 hex
digits of the SHA-256 of the full mapped name, so the cut is stable across runs and machines.

The mapping is reversible through the catalog, not by string manipulation: the loaders
reject two tools of a toolkit whose names map to the same `name` (no silent renaming), so
`(toolkit, name)` <-> `(toolkit, original_name)` is one-to-one; see
`Catalog.tool_by_original` and `Catalog.bundle_tools`.
"""

from __future__ import annotations

import hashlib
import re

from funcdex_assets.catalog.models import TOOL_NAME_PATTERN

MAX_NAME_LENGTH = 64
_HASH_LENGTH = 8

TOOLKIT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

_INVALID_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
_INVALID_TOOLKIT_CHARS = re.compile(r"[^a-z0-9_-]+")
_TOOLBENCH_INVALID = re.compile(r"[^a-zA-Z0-9_]")
_RUNS_OF_UNDERSCORES = re.compile(r"_{2,}")
# ToolBench prefixes these API names with `is_` (they clash with Python keywords or its
# own argument names).
_TOOLBENCH_RESERVED = frozenset({"from", "class", "return", "false", "true", "id", "and"})


def fit_length(name: str, limit: int = MAX_NAME_LENGTH) -> str:
    """`name` if it fits, else its first `limit - 9` characters + `_` + an 8-hex hash."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:_HASH_LENGTH]
    return f"{name[: limit - _HASH_LENGTH - 1]}_{digest}"


def openai_safe_name(original: str) -> str:
    """`weather.get_forecast` -> `weather__get_forecast`; see the module docstring."""
    mapped = _INVALID_NAME_CHARS.sub("_", original.replace(".", "__"))
    return fit_length(mapped)


def funcdex_name(toolkit: str, tool_id: str) -> str:
    """`("gmail", "FETCH_EMAILS")` -> `GMAIL_FETCH_EMAILS`; prefixed ids are kept."""
    prefix = f"{toolkit.upper()}_"
    full = tool_id if tool_id.upper().startswith(prefix) else prefix + tool_id
    return openai_safe_name(full)


def toolbench_standardize(text: str) -> str:
    """ToolBench's `standardize`: non-word characters to `_`, runs collapsed, lowercase,
    no leading/trailing `_`, `get_` before a leading digit. ASCII only (ToolBench also keeps
    CJK characters, which OpenAI function names do not allow)."""
    text = _TOOLBENCH_INVALID.sub("_", text)
    text = _RUNS_OF_UNDERSCORES.sub("_", text).lower().strip("_")
    if text[:1].isdigit():
        text = "get_" + text
    return text


def toolbench_name(api_name: str, tool_name: str) -> str:
    """`("Get Weather", "Weather API")` -> `get_weather_for_weather_api` (ToolBench's
    `f"{api}_for_{tool}"`); empty string when either part has no ASCII letter or digit."""
    api = toolbench_standardize(api_name)
    tool = toolbench_standardize(tool_name)
    if not api or not tool:
        return ""
    if api in _TOOLBENCH_RESERVED:
        api = "is_" + api
    return fit_length(f"{api}_for_{tool}")


def normalize_toolkit(raw: str) -> str:
    """A toolkit name from a file stem or a ToolBench tool name: lowercase, characters
    outside `[a-z0-9_-]` to `_` (runs collapsed), no leading/trailing `_` or `-`.
    `"Weather API"` -> `weather_api`; `""` when nothing usable is left."""
    text = _INVALID_TOOLKIT_CHARS.sub("_", raw.strip().lower())
    text = _RUNS_OF_UNDERSCORES.sub("_", text)
    return text.strip("_-")


def is_valid_toolkit(name: str) -> bool:
    return bool(TOOLKIT_PATTERN.fullmatch(name))


def is_valid_tool_name(name: str) -> bool:
    return bool(TOOL_NAME_PATTERN.fullmatch(name))


_OPERATION_INVALID = re.compile(r"[^A-Za-z0-9_-]+")
_SEPARATOR_RUN = re.compile(r"[-_]*_[-_]*")


def operation_tool_name(operation_id: str | None, method: str, path: str) -> str:
    """The tool name of an OpenAPI operation: its `operationId`, else `<method>_<path>`.

    Every run of characters outside `[A-Za-z0-9_-]` becomes one `_` and runs mixing `_` and
    `-` collapse to `_`, so `find pet by id` -> `find_pet_by_id`, `tasks.tasks.list` ->
    `tasks_tasks_list`, HubSpot's `get-/crm/v3/extensions/cards/{appId}_getAll` ->
    `get_crm_v3_extensions_cards_appId_getAll`; without an operationId, `GET /estimates/price`
    -> `get_estimates_price` (braces of path parameters dropped, `/` -> `root`). Names over 64
    characters are cut as `fit_length` does; empty when nothing usable is left."""

    name = clean_name_part(operation_id) if operation_id else ""
    if not name:
        name = clean_name_part(f"{method.lower()}_{path.strip('/') or 'root'}")
    return fit_length(name) if name else ""


def clean_name_part(text: str) -> str:
    """`text` with runs of characters outside `[A-Za-z0-9_-]` as one `_`, runs mixing `_`
    and `-` collapsed to `_`, no leading / trailing `_` or `-` (`find pet by id` ->
    `find_pet_by_id`); not cut to length."""
    text = _SEPARATOR_RUN.sub("_", _OPERATION_INVALID.sub("_", text))
    return text.strip("_-")


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name_2`, `name_3`, ... (kept within 64 characters) if it is taken."""
    if name not in taken:
        return name
    n = 2
    while True:
        suffix = f"_{n}"
        candidate = fit_length(name, MAX_NAME_LENGTH - len(suffix)) + suffix
        if candidate not in taken:
            return candidate
        n += 1


# How people write the names of well-known services; other toolkits are title-cased.
_DISPLAY = {"github": "GitHub", "gitlab": "GitLab", "whatsapp": "WhatsApp", "hubspot": "HubSpot",
            "youtube": "YouTube", "linkedin": "LinkedIn", "clickup": "ClickUp", "sendgrid": "SendGrid",
            "paypal": "PayPal", "quickbooks": "QuickBooks", "mailchimp": "Mailchimp", "openai": "OpenAI"}
_GOOGLE = "google"


def toolkit_display_name(toolkit: str) -> str:
    """The service name a person would write: `googlecalendar` -> `Google Calendar`, `whatsapp`
    -> `WhatsApp`, `my_crm` -> `My Crm`."""
    key = toolkit.lower()
    if key in _DISPLAY:
        return _DISPLAY[key]
    if key.startswith(_GOOGLE) and len(key) > len(_GOOGLE) and "_" not in key and "-" not in key:
        return "Google " + key[len(_GOOGLE):].capitalize()
    return " ".join(part.capitalize() for part in re.split(r"[_\-\s]+", toolkit) if part)
