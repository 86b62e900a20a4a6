"""Round history: what other rounds accepted is visible, the round being computed never is."""

from __future__ import annotations

from funcdex_assets.history import RoundHistory


def test_scenarios_of_other_rounds_only_and_rounds_replace_themselves(tmp_path):
    h = RoundHistory(tmp_path)
    assert h.items_before("scenarios", ["gmail"], 7) == []
    h.record_items("scenarios", "gmail", 7, [("s1", "find the Q3 email"), ("s2", "book a room")])
    assert h.items_before("scenarios", ["gmail"], 7) == []  # a rerun of round 7 reads what it read before
    assert h.items_before("scenarios", ["gmail"], 8) == [("s1", "find the Q3 email"), ("s2", "book a room")]
    h.record_items("scenarios", "gmail", 7, [("s3", "only this now")])  # re-materialized round 7 replaces itself
    h.record_items("scenarios", "gmail", 8, [("s4", "tonight's")])
    assert h.items_before("scenarios", ["gmail"], 9) == [("s3", "only this now"), ("s4", "tonight's")]
    assert h.items_before("scenarios", ["jira"], 9) == [] and h.known_bundles() == ["gmail"]


def test_tool_usage_sums_other_rounds(tmp_path):
    h = RoundHistory(tmp_path)
    h.record_usage("gmail", 7, {"A": 3, "B": 1})
    h.record_usage("gmail", 8, {"A": 1, "C": 2})
    assert h.usage_before("gmail", 9) == {"A": 4, "B": 1, "C": 2}
    assert h.usage_before("gmail", 8) == {"A": 3, "B": 1}
    assert h.usage_before("jira", 8) == {}
