"""Results that ignore the call: `list_over_limit`, `list_ignores_filter`, `list_outside_window`,
`list_omits_created`; and results that do not add up: `amounts_disagree` (below).

A list result's items are the longest list of objects in it (`data.events`, `results`, the
result itself). Then:
- limit: an argument `limit`, `max_results`, `page_size`, `per_page`, `top`, ... smaller than
  the number of items;
- filter: an argument whose name an item also has (`status`, `assignee`, `label`, `from`...)
  with a scalar value no item may contradict: the item's value differs (case-insensitively),
  or, for an item field holding a list or an object, the value is not among its scalars. A
  string filter may name a category (`status: "upcoming"`, `"not_done"`) or match loosely (a
  name, a place), so it is held to literally only when the item's value is in the argument's
  enum (and the filter is no category), or when it is a one-word code that other items carry.
  Paging, sorting, formatting and free-text search arguments are not filters; `min_*` /
  `max_*` names are windows, not equalities;
- window: an argument whose name holds a bound word (`min`, `since`, `after`, `from`, `start`
  as a lower bound; `max`, `until`, `before`, `to`, `end` as an upper one) and a date value.
  What it bounds is the rest of its name (`updated_min` -> `updated*` fields, `created_after`
  -> `created*`, `timeMin` -> the item's time, `min_start_time` -> `start*` fields: with two
  bound words the ordering one decides; catalog/listing.py): a lower bound must not be after
  the item's end (or its only time), an upper bound not before its start;
- mismatch (`result_mismatch`): a call that reads, changes or deletes by id (not a list, not a
  copy) whose result carries a field named like that argument with another value
  (`task_id: 1` -> `"task_id": 2`), or holds an object of that entity (`message_id` -> the
  result's `message` object) whose `id` is another one. A create of a child of the argument's
  kind (`CREATE_SUBTASK(task_gid)`) makes another task: its id is not compared;
- created: a successful create (by name) whose result names the new object's id, followed
  (with no deletion of it between) by a successful list of the same entity whose arguments
  are only containers and limits, whose result is not paginated (no next-page token, fewer
  items than its limit) and does not contain the id. A list in a container the create named
  otherwise, or did not name (`project_gid` for a task made in a workspace), need not hold it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from funcdex_assets.catalog.actions import deletion_kind, name_action, reads_many, words
from funcdex_assets.catalog.fields import (
    LIMIT_KEYS,
    entity_word,
    id_entity,
    result_limit,
    singular,
    snake,
    tool_entity,
)
from funcdex_assets.catalog.listing import (
    NEXT_PAGE_KEYS,
    NOT_FILTERS,
    ORDERING_WORDS,
    SEARCH_KEYS,
    TOTAL_KEYS,
    time_window,
)
from funcdex_assets.quality.dates import TimePoint, before, parse_time
from funcdex_assets.quality.detectors.honesty import failure
from funcdex_assets.quality.detectors.values import ID_KEYWORDS
from funcdex_assets.quality.dialogue import Call, Dialogue, iter_objects, iter_scalars
from funcdex_assets.quality.findings import Finding

_CATEGORIES = frozenset({"any", "all", "both", "either", "upcoming", "past", "overdue", "incomplete", "unfinished",
                         "unresolved", "outstanding", "current", "recent"})
_LOOSE = frozenset({"name", "title", "city", "location", "neighborhood", "neighbourhood", "area", "region",
                    "address", "company", "organization", "keyword", "description"})


def items_of(result: Any) -> list[dict[str, Any]]:
    """A result's items: its outermost list of objects (the longest of those at that depth),
    [] when there is none. `orders[].line_items` are parts of an order, not items."""
    found: list[tuple[int, int, list[dict[str, Any]]]] = []

    def walk(value: Any, depth: int) -> None:
        if depth > 4:
            return
        if isinstance(value, list):
            objs = [v for v in value if isinstance(v, dict)]
            if objs:
                found.append((depth, -len(objs), objs))
                return
        elif isinstance(value, dict):
            for v in value.values():
                walk(v, depth + 1)

    walk(result, 0)
    return min(found, key=lambda f: (f[0], f[1]))[2] if found else []


def _limit(call: Call) -> int | None:
    return result_limit(call.arguments)


def _paginated(result: Any) -> bool:
    """A page of something bigger: a next-page token, `has_more`, or a total above the items."""
    shown = len(items_of(result))
    for _, obj in iter_objects(result):
        for key, value in obj.items():
            sk = snake(key)
            if sk in NEXT_PAGE_KEYS and value not in (None, "", False, 0):
                return True
            if sk == "has_more" and value is True:
                return True
            if sk in TOTAL_KEYS and isinstance(value, int) and not isinstance(value, bool) and value > shown:
                return True
    return False


def _scalars(value: Any) -> list[str]:
    return [str(v).strip().lower() for _, v in iter_scalars(value)]


def _item_times(item: dict[str, Any], dimension: frozenset[str]) -> tuple[TimePoint | None, TimePoint | None]:
    """(start, end) of an item along `dimension` (empty: the item's own time span)."""
    found: dict[str, TimePoint] = {}
    for key, value in item.items():
        ws = set(snake(key).split("_"))
        if isinstance(value, dict):
            inner = {snake(k): v for k, v in value.items()}
            value = inner.get("date_time", inner.get("datetime", inner.get("date")))
        t = parse_time(value, numeric=True)
        if not t:
            continue
        if dimension:
            if dimension & ws:
                found.setdefault("only", t)
        elif "start" in ws or "begin" in ws:
            found.setdefault("start", t)
        elif "end" in ws:
            found.setdefault("end", t)
    if "only" in found:
        return found["only"], found["only"]
    return found.get("start") or found.get("end"), found.get("end") or found.get("start")


_JQL_PROJECT = re.compile(r"\bproject\s*=\s*\"?([A-Z][A-Z0-9]{1,9})\b")
_ISSUE_KEY = re.compile(r"([A-Z][A-Z0-9]{1,9})-\d+")


def _query_project(call: Call) -> list[Finding]:
    """A Jira query for `project = GOVE` answered with OPS-2: an issue key names its project."""
    wanted = next((m.group(1) for v in call.arguments.values() if isinstance(v, str)
                   for m in [_JQL_PROJECT.search(v)] if m), None)
    if wanted is None:
        return []
    for item in items_of(call.result):
        key = item.get("key")
        found = _ISSUE_KEY.fullmatch(key) if isinstance(key, str) else None
        if found and found.group(1) != wanted:
            return [Finding(code="list_ignores_filter", message_index=call.result_index, message=(
                f"{call.name} asked for project = {wanted} and got {key}"))]
    return []


def _list_findings(call: Call, schema: dict[str, Any], limit_only: bool) -> list[Finding]:
    items = items_of(call.result)
    if not items:
        return []
    out: list[Finding] = [] if limit_only else _query_project(call)
    limit = _limit(call)
    if limit is not None and len(items) > limit:
        out.append(Finding(code="list_over_limit", message_index=call.result_index, message=(
            f"{call.name} asked for at most {limit} item(s) and got {len(items)}")))
    if limit_only:
        return out
    for key, value in call.arguments.items():
        sk = snake(key)
        if sk in LIMIT_KEYS or sk in NOT_FILTERS:
            continue
        window = time_window(key)
        bound = parse_time(value, numeric=True) if window else None
        if window and bound:
            side, dimension = window
            for item in items:
                start, end = _item_times(item, dimension)
                outside = (side == "lower" and end is not None and before(end, bound)) or \
                          (side == "upper" and start is not None and before(bound, start))
                if outside:
                    out.append(Finding(code="list_outside_window", message_index=call.result_index, message=(
                        f"{call.name} asked for {key}={value!r} and got an item at "
                        f"{(end if side == 'lower' else start).moment.isoformat()}")))
                    break
            continue
        ordering = bool(set(sk.split("_")) & ORDERING_WORDS)  # min_access_role: a bound, not an equality
        if isinstance(value, (dict, list)) or value is None or id_entity(key) == "" or ordering \
                or sk.startswith(("include_", "show_")):
            continue
        bad = _contradicting(items, sk, value, enum_of(schema, key))
        if bad:
            match, got = bad
            out.append(Finding(code="list_ignores_filter", message_index=call.result_index, message=(
                f"{call.name} asked for {key}={value!r} and got an item with {match}={_brief(got)}")))
    return out


def enum_of(schema: dict[str, Any], key: str) -> list[Any] | None:
    sub = (schema.get("properties") or {}).get(key) if isinstance(schema, dict) else None
    return sub.get("enum") if isinstance(sub, dict) and isinstance(sub.get("enum"), list) else None


def _contradicting(items: list[dict[str, Any]], sk: str, value: Any, enum: list[Any] | None):
    """(field, value) of an item that contradicts the filter `sk == value`, None if none does.

    A string filter may name a category rather than a field value (`status: "upcoming"` over
    items whose status is "confirmed"), so a differing string contradicts it only when the
    item's value is in the filter's own enum, or when other items do carry the asked value."""
    wanted = str(value).strip().lower()
    seen = []
    for item in items:
        match = next((k for k in item if snake(k) == sk), None)
        if match is None:
            continue
        got = item[match]
        if isinstance(value, bool) and not isinstance(got, bool):
            ok = bool(got) == value  # `monitor: true` and an item's `monitor: "27in"`
        else:
            ok = wanted in _scalars(got) if isinstance(got, (dict, list)) else str(got).strip().lower() == wanted
        seen.append((ok, match, got))
    # A one-word code ("open", "urgent") that some items carry is a literal filter; a name or a
    # place ("Diego Alvarez", "West Loop") may match loosely ("Diego Álvarez Ruiz", a nearby area).
    code_like = isinstance(value, str) and re.fullmatch(r"[\w.:-]+", value.strip()) is not None \
        and sk not in _LOOSE
    literal = isinstance(value, (bool, int, float)) or (code_like and any(ok for ok, _, _ in seen))
    # An enum may hold categories no item carries (`status: "not_done"` -> open and in_progress).
    category = isinstance(value, str) and (value.lower().startswith(("not_", "non_", "not ", "un"))
                                           or value.lower() in _CATEGORIES)
    for ok, match, got in seen:
        if ok:
            continue
        if literal or (enum is not None and not category and not isinstance(got, (dict, list)) and got in enum):
            return match, got
    return None


def _brief(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _created_id(call: Call) -> str | None:
    """The id of the object a create call made: the `id` of the outermost object holding one."""
    for _, obj in iter_objects(call.result):
        for key, value in obj.items():
            if id_entity(key) in ("", tool_entity(call.name)) and isinstance(value, (str, int)) \
                    and not isinstance(value, bool):
                return str(value)
    return None


def _only_containers(call: Call) -> bool:
    """The list's arguments choose where and how much, not what (no search, filter or window)."""
    return all(snake(k) in LIMIT_KEYS or (snake(k) in NOT_FILTERS and snake(k) not in SEARCH_KEYS)
               or id_entity(k) not in (None, "") for k in call.arguments)


def list_consistency(d: Dialogue) -> list[Finding]:
    out: list[Finding] = []
    created: list[tuple[Call, str]] = []
    for call in d.calls:
        if not call.answered or failure(call.result, call.name) is not None:
            continue
        action = name_action(call.name)
        if action == "create":
            new_id = _created_id(call)
            # REPLY_TO_THREAD(thread_id=X) answers in thread X: the thread existed (the reply made
            # a message in it), so no new thread is owed to a list of threads.
            inside_own = any(id_entity(k) == tool_entity(call.name) for k in call.arguments)
            # ADD_LABEL_TO_EMAIL(message_id=X) answers with message X: it changed X, made nothing.
            given = {str(v) for _, v in iter_scalars(call.arguments)}
            if new_id and not inside_own and new_id not in given:
                created.append((call, new_id))
            continue
        if deletion_kind(call.name):
            targets = {str(v) for v in call.arguments.values() if isinstance(v, (str, int))}
            created = [(c, i) for c, i in created if i not in targets]
            continue
        many = reads_many(call.name)
        if action == "get" and not many:
            out.extend(_list_findings(call, {}, limit_only=True))  # `history(limit=5)` still lists
            continue
        if not many:
            continue
        out.extend(_list_findings(call, d.tools.get(call.name) or {}, limit_only=False))
        items = items_of(call.result)
        limit = _limit(call)
        if not _only_containers(call) or _paginated(call.result) or (limit is not None and len(items) >= limit):
            continue
        entity = tool_entity(call.name)
        dump = json.dumps(call.result, ensure_ascii=False)
        inside = {str(v) for v in call.arguments.values() if isinstance(v, (str, int))}
        for maker, new_id in created:
            # Listing the created folder (or project) shows what is in it, not the folder itself.
            if tool_entity(maker.name) != entity or new_id in dump or new_id in inside:
                continue
            shared = {k: v for k, v in maker.arguments.items() if k in call.arguments}
            if any(call.arguments[k] != v for k, v in shared.items()):
                continue  # made in another container (calendar, project) than the one listed
            if any(k not in maker.arguments and id_entity(k) not in (None, "") and _named_ids(v)
                   for k, v in call.arguments.items()):
                continue  # listed in a container (project, label) the create did not name: it need not be in it
            out.append(Finding(code="list_omits_created", message_index=call.result_index, message=(
                f"{call.name} lists no {entity} {new_id!r}, which {maker.name} (message {maker.index}) just created")))
    return out


def _named_ids(value: Any) -> bool:
    """An id (or a list of ids, Gmail's label_ids) that is not a keyword such as "me" or "primary"."""
    values = value if isinstance(value, list) else [value]
    return bool(values) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values) \
        and any(str(v).lower() not in ID_KEYWORDS for v in values)


_COPIES = frozenset({"copy", "duplicate", "clone", "fork", "forward", "reply", "move", "convert", "import", "restore"})


def _mismatch(call: Call, leaf_key: str, value: Any) -> str | None:
    sk, entity = snake(leaf_key), id_entity(leaf_key)
    wanted = str(value)
    for path, obj in iter_objects(call.result):
        for key, got in obj.items():
            if snake(key) == sk and isinstance(got, (str, int)) and not isinstance(got, bool) and str(got) != wanted:
                return f"{key}={got!r}"
        holder = next((p for p in reversed(path) if p != "[]"), None)
        if entity and holder and entity_word(holder) == entity and "[]" not in path:
            ident = next((obj[k] for k in obj if snake(k) in ("id", "gid", "uuid")), None)
            if isinstance(ident, (str, int)) and not isinstance(ident, bool) and str(ident) != wanted:
                return f"{'.'.join(path)}.id={ident!r}"
    return None


def _makes_child(call_name: str, entity: str) -> bool:
    """A create that makes a child of the kind its argument names: `CREATE_SUBTASK(task_gid)`
    makes a new task whose parent is task_gid, so the result's task is another one."""
    if name_action(call_name) != "create" or not entity:
        return False
    ws = words(call_name)
    for i, w in enumerate(ws):
        if w in ("sub", "child") and i + 1 < len(ws) and singular(ws[i + 1]) == entity:
            return True
        if w.startswith("sub") and singular(w[3:]) == entity:
            return True
    return False


def result_mismatch(d: Dialogue) -> list[Finding]:
    out: list[Finding] = []
    for call in d.calls:
        if not call.answered or reads_many(call.name) or failure(call.result, call.name) is not None \
                or set(words(call.name)) & _COPIES:
            continue
        for key, value in call.arguments.items():
            # "primary", "me" come back as the real id; a subtask made under a task is another task.
            if isinstance(value, (dict, list, bool)) or value is None or id_entity(key) is None \
                    or str(value).lower() in ID_KEYWORDS or _makes_child(call.name, id_entity(key) or ""):
                continue
            got = _mismatch(call, key, value)
            if got:
                out.append(Finding(code="result_mismatch", message_index=call.result_index, message=(
                    f"{call.name} asked about {key}={value!r} and the result is about {got}")))
                break
    return out


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def amounts_disagree(d: Dialogue) -> list[Finding]:
    """`amounts_disagree`: sums in one result object that do not add up: `amount_paid` plus
    `amount_remaining` is not `amount_due` (Stripe's invoice), or a line's `amount` is not its
    `quantity` times its `unit_amount` (on the line or its `price`). Whole numbers (minor units)
    only; one finding per result."""
    out: list[Finding] = []
    for call in d.calls:
        if not call.answered:
            continue
        for _, obj in iter_objects(call.result):
            due, paid, left = obj.get("amount_due"), obj.get("amount_paid"), obj.get("amount_remaining")
            why = None
            if _int(due) and _int(paid) and _int(left) and paid + left != due:
                why = f"amount_paid {paid} + amount_remaining {left} is not amount_due {due}"
            price = obj.get("price") if isinstance(obj.get("price"), dict) else {}
            unit, quantity, amount = obj.get("unit_amount", price.get("unit_amount")), obj.get("quantity"), obj.get("amount")
            # (A total that does not divide evenly leaves a remainder below one unit per item.)
            if why is None and _int(unit) and _int(quantity) and _int(amount) and quantity > 0 \
                    and not 0 <= amount - unit * quantity < quantity:
                why = f"amount {amount} is not quantity {quantity} x unit_amount {unit}"
            if why:
                out.append(Finding(code="amounts_disagree", message_index=call.result_index,
                                   message=f"{call.name} result: {why}"))
                break
    return out
