"""Relations between sibling arguments that their descriptions state.

Tool docs say which fields replace each other ("Due date; use instead of due_string") and which
need another ("Duration amount; needs duration_unit"). A call that sets both of two
alternatives is contradictory (three due dates on one task), and one that sets a field without
the field it needs is rejected by the API; the offline generator plans arguments with these.
Only names of sibling properties count: "needs access" names none.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

_INSTEAD = re.compile(r"\b(?:use|set|pass|give) (?:it )?instead of `?([A-Za-z_]\w*)`?")
_NEEDS = re.compile(r"\b(?:needs|requires) `?([A-Za-z_]\w*)`?")


def _named(pattern: re.Pattern[str], properties: Mapping[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for name, schema in properties.items():
        if not isinstance(schema, dict):
            continue
        for other in pattern.findall(str(schema.get("description", ""))):
            if other in properties and other != name:
                out.setdefault(name, set()).add(other)
    return out


def alternatives(properties: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """`{name: names it stands instead of}` for the properties of one object schema: groups of
    ways to say one thing, each member an alternative of every other (due_date and due_datetime
    both say "use instead of due_string": one due date, so any one of the three)."""
    groups: list[set[str]] = []
    for name, others in _named(_INSTEAD, properties).items():
        group = {name, *others}
        touching = [g for g in groups if g & group]
        for g in touching:
            group |= g
            groups.remove(g)
        groups.append(group)
    return {name: frozenset(g - {name}) for g in groups for name in g}


def companions(properties: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """`{name: sibling properties it needs}` ("Duration amount; needs duration_unit")."""
    return {k: frozenset(v) for k, v in _named(_NEEDS, properties).items()}


def without_alternatives(args: dict[str, Any], properties: Mapping[str, Any],
                         required: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """`args` keeping, of each set of alternatives, the first present in `args`' order; a
    required property is always kept (the schema asks for it whatever the prose says)."""
    alt = alternatives(properties)
    out: dict[str, Any] = {}
    for name, value in args.items():
        if name not in required and alt.get(name, frozenset()) & out.keys():
            continue
        out[name] = value
    return out
