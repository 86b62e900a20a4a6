"""Relations between sibling arguments stated in their descriptions (catalog/relations.py)."""

from __future__ import annotations

from funcdex_assets.catalog.relations import alternatives, companions, without_alternatives

TODOIST = {
    "content": {"type": "string", "description": "Task title."},
    "due_string": {"type": "string", "description": "Natural-language due date, e.g. 'tomorrow'."},
    "due_date": {"type": "string", "description": "Due date; use instead of due_string."},
    "due_datetime": {"type": "string", "description": "Due date and time in RFC 3339; use instead of due_string."},
    "duration": {"type": "integer", "description": "Duration amount; needs duration_unit."},
    "duration_unit": {"type": "string", "enum": ["minute", "day"]},
    "note": {"type": "string", "description": "Needs access to the project."},
}


def test_alternatives_run_both_ways_and_only_between_siblings():
    alt = alternatives(TODOIST)
    # Both replace due_string: the three are one due date, said one way.
    assert alt["due_date"] == {"due_string", "due_datetime"} and alt["due_datetime"] == {"due_string", "due_date"}
    assert alt["due_string"] == {"due_date", "due_datetime"}
    assert "content" not in alt
    assert companions(TODOIST) == {"duration": {"duration_unit"}}  # "needs access" names no sibling


def test_the_first_of_each_set_of_alternatives_is_kept_and_required_ones_always():
    args = {"content": "Pay rent", "due_string": "every friday", "due_date": "2026-03-05", "duration": 30}
    assert without_alternatives(args, TODOIST) == {"content": "Pay rent", "due_string": "every friday", "duration": 30}
    args = {"due_date": "2026-03-05", "due_string": "tomorrow"}
    assert without_alternatives(args, TODOIST) == {"due_date": "2026-03-05"}
    assert without_alternatives({"due_date": "2026-03-05", "due_datetime": "2026-03-05T10:00:00Z"}, TODOIST) == {
        "due_date": "2026-03-05"}
    assert without_alternatives(args, TODOIST, required={"due_string"}) == args


def test_planned_calls_never_set_two_alternatives():
    import random
    from datetime import datetime, timezone
    from pathlib import Path

    from faker import Faker

    from funcdex_assets.backends.base import Persona
    from funcdex_assets.catalog.loader import load_catalog
    from funcdex_assets.offline.planner import plan_conversation
    from funcdex_assets.offline.values import ValueFactory

    catalog = load_catalog(Path(__file__).resolve().parents[1] / "tool_catalog")
    tools = {t.name: t for t in catalog.bundle_tools("todoist") + catalog.bundle_tools("asana")}
    persona = Persona(name="Dana Ruiz", first_name="Dana", role="a planner", company="Acme", email="dana@acme.io",
                      tone="terse", clarity="excellent", timezone="Europe/Berlin", background="")
    chain = [tools["TODOIST_CREATE_TASK"], tools["ASANA_CREATE_TASK"]]
    for seed in range(40):
        values = ValueFactory(random.Random(seed), Faker(), datetime(2026, 3, 9, tzinfo=timezone.utc))
        plan = plan_conversation(chain, persona, values, "2026-03-09", False)
        for step, tool in zip(plan.steps, chain):
            props = tool.input_schema["properties"]
            args = {**step.user_args, **step.assistant_args}
            for name, others in alternatives(props).items():
                assert not (name in args and others & args.keys()), (tool.name, sorted(args))
            if "duration" in args:
                assert "duration_unit" in args
