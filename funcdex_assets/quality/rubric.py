"""How detector findings bound a judge's scores, whoever the judge is.

The judge scores two axes from 1 to 5 (user_query_clarity, tool_use_quality). A finding is
mechanical evidence the judge may not overrule, so each code caps an axis:

- the assistant does something wrong: no tool call, garbled text (1); false success, use after delete,
  unsourced argument, unconfirmed destruction, relative date mismatch, invented name, an object
  looked for in the wrong container, a trash called final (2); a doubled word (3):
  tool_use_quality;
- the simulated tools answer incoherently (end before start, updated before created, created
  in the future, lists that ignore their call, a result about another object, the user's own
  profile belonging to someone else, an object read back otherwise, sums or a person's name
  that do not add up): tool_use_quality 4. The assistant did its part;
  the data is still worse, and the `semantic_defect_rate` check counts it, but what a model
  learns from the assistant's turns is right, so this alone does not fail the judge;
- the user reads out parameters or the generator's scenario, or names what only a tool result
  showed: user_query_clarity 2; garbled text: 1;
- a structural defect (only in rows read from files): tool_use_quality 1.

With the default `min_tool_use_quality` of 4, every assistant defect fails the judge.
"""

from __future__ import annotations

from typing import Iterable

from funcdex_assets.backends.base import JudgeScore
from funcdex_assets.quality.findings import CODES, Finding

ASSISTANT_CAPS = {"no_tool_call": 1, "garbled_text": 1, "false_success": 2, "used_after_delete": 2, "unsourced_argument": 2,
                  "unconfirmed_destruction": 2, "relative_date_mismatch": 2, "invented_name": 2, "wrong_container": 2,
                  "false_finality": 2, "doubled_word": 3, "repeated_call": 3, "self_addressed": 2, "needless_state_change": 2, "silent_pick": 2}
WORLD_CODES = frozenset({"end_before_start", "updated_before_created", "created_in_future", "list_over_limit",
                         "list_ignores_filter", "list_outside_window", "list_omits_created", "result_mismatch",
                         "identity_mismatch", "entity_drift", "amounts_disagree", "name_mismatch", "implausible_denial"})
CLARITY_CAPS = {"parameter_dictation": 2, "prompt_leak": 2, "garbled_text": 1, "unseen_reference": 2}


def caps(findings: Iterable[Finding]) -> tuple[int, int]:
    """(user_query_clarity cap, tool_use_quality cap) the findings allow."""
    codes = {f.code for f in findings}
    quality = min([ASSISTANT_CAPS[c] for c in codes if c in ASSISTANT_CAPS] or [5])
    if codes & WORLD_CODES:
        quality = min(quality, 4)
    if any(c in CODES and not CODES[c].semantic for c in codes):
        quality = 1
    clarity = min([CLARITY_CAPS[c] for c in codes if c in CLARITY_CAPS] or [5])
    return clarity, quality


def bound(score: JudgeScore, findings: list[Finding]) -> JudgeScore:
    """The judge's score with each axis capped by the findings; the reasons say which finding
    lowered it (first finding of each code)."""
    if not findings:
        return score
    clarity_cap, quality_cap = caps(findings)
    reasons = dict(score.reasons)
    first = {}
    for f in findings:
        first.setdefault(f.code, f)
    if score.tool_use_quality > quality_cap:
        lowered = [f.line() for c, f in first.items() if c not in CLARITY_CAPS]
        reasons["tool_use_quality"] = (f"{reasons.get('tool_use_quality', '')} Capped at {quality_cap} by the "
                                       f"detectors: {'; '.join(lowered)}").strip()
    if score.user_query_clarity > clarity_cap:
        lowered = [f.line() for c, f in first.items() if c in CLARITY_CAPS]
        reasons["user_query_clarity"] = (f"{reasons.get('user_query_clarity', '')} Capped at {clarity_cap} by the "
                                         f"detectors: {'; '.join(lowered)}").strip()
    return JudgeScore(user_query_clarity=min(score.user_query_clarity, clarity_cap),
                      tool_use_quality=min(score.tool_use_quality, quality_cap), reasons=reasons)
