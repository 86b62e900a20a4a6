"""What a list call's arguments ask of its items, and which result fields say how much is left.

The offline world answers list calls with items that honour these arguments and the results
detectors (quality/detectors/results.py) check that any dataset's items do; both read the
arguments the same way through this module. Limits are in `fields.result_limit`.

- Not filters (`NOT_FILTERS`): paging, sorting, formatting and free-text search arguments
  (`SEARCH_KEYS`, a subset); anything else whose name an item also has is an equality filter.
- Time windows (`time_window`): an argument whose snake-cased name holds one bound word
  (`min`, `since`, `after`, `from`, `start`, `gte` ... as a lower bound; `max`, `until`,
  `before`, `to`, `end`, `lte` ... as an upper one) bounds the time the rest of its name names:
  `updated_min` -> `updated*` fields, `created_gte` -> `created*`, `timeMin` / `start_time` ->
  the item's own span (its start and end). With two bound words, an ordering word (`min`,
  `after`, ...) decides the side and the other names the field: `min_start_time` -> lower
  bound on `start*` fields.
- Paging fields of a result (`NEXT_PAGE_KEYS`, `TOTAL_KEYS`): a next-page token or cursor, and
  a total count of matching items.
"""

from __future__ import annotations

from funcdex_assets.catalog.fields import snake

NOT_FILTERS = frozenset({"page", "page_token", "cursor", "offset", "starting_after", "ending_before", "order",
                         "order_by", "sort", "sort_by", "sort_order", "direction", "format", "fields", "expand",
                         "view", "query", "q", "search", "text", "keyword", "keywords", "time_zone", "timezone",
                         "single_events", "include", "locale", "language", "next_page_token", "sync_token",
                         "pretty", "alt", "verbose", "projection", "opt_fields", "opt_expand"})
SEARCH_KEYS = frozenset({"query", "q", "search", "text", "keyword", "keywords"})
LOWER_WORDS = frozenset({"min", "since", "after", "from", "start", "gte", "gt", "earliest", "begin", "newer"})
UPPER_WORDS = frozenset({"max", "until", "before", "to", "end", "lte", "lt", "latest", "older"})
# Bound words that only order (never name a field themselves): `min_start_time` is bounded by
# `min`, on its start.
ORDERING_WORDS = (LOWER_WORDS | UPPER_WORDS) - {"from", "to", "start", "end", "begin"}
_TIME_WORDS = frozenset({"time", "date", "at", "on", "datetime"})
NEXT_PAGE_KEYS = frozenset({"next_page_token", "next_cursor", "next_page", "next", "cursor", "next_link", "next_url",
                            "continuation_token", "next_offset"})
TOTAL_KEYS = frozenset({"total", "total_found", "total_count", "total_results", "total_size",
                        "result_size_estimate", "count", "total_items"})


def time_window(key: str) -> tuple[str, frozenset[str]] | None:
    """(`lower` | `upper`, the words naming the bounded time) of an argument named like a time
    bound, None for other names. The words are empty when the bound is on the item's own span
    (`timeMin`, `start_time`). Whether the value is a time is the caller's to check."""
    ws = snake(key).split("_")
    bounds = [w for w in ws if w in LOWER_WORDS or w in UPPER_WORDS]
    if len(bounds) == 2:
        ordering = [w for w in bounds if w in ORDERING_WORDS]
        if len(ordering) != 1:
            return None
        bound = ordering[0]
    elif len(bounds) == 1:
        bound = bounds[0]
    else:
        return None
    rest = frozenset(w for w in ws if w != bound and w not in _TIME_WORDS)
    return ("lower" if bound in LOWER_WORDS else "upper"), rest
