"""Detectors: plain functions `Dialogue -> list[Finding]`, one module per family of defects.

`detect(dialogue)` runs them all (structural ones only when asked: the pipeline's DML
validator already rejects those) and returns the findings in message order. The codes each
family reports are in `quality.findings.CODES`; docs/quality.md explains them.
"""

from __future__ import annotations

from typing import Callable

from funcdex_assets.quality.detectors.choice import silent_pick
from funcdex_assets.quality.detectors.calls import empty_change, no_tool_call, repeated_call
from funcdex_assets.quality.detectors.destruction import false_finality, unconfirmed_destruction
from funcdex_assets.quality.detectors.dictation import parameter_dictation
from funcdex_assets.quality.detectors.errors import implausible_denial
from funcdex_assets.quality.detectors.honesty import false_success
from funcdex_assets.quality.detectors.identity import identity_mismatch, invented_name, name_mismatch, self_addressed
from funcdex_assets.quality.detectors.lifecycle import entity_drift, used_after_delete, wrong_container
from funcdex_assets.quality.detectors.provenance import unseen_reference, unsourced_argument
from funcdex_assets.quality.detectors.state import needless_state_change
from funcdex_assets.quality.detectors.results import amounts_disagree, list_consistency, result_mismatch
from funcdex_assets.quality.detectors.structure import call_schemas, structure
from funcdex_assets.quality.detectors.text import doubled_word, garbled_text, prompt_leak
from funcdex_assets.quality.detectors.time import temporal
from funcdex_assets.quality.dialogue import Dialogue
from funcdex_assets.quality.findings import Finding

Detector = Callable[[Dialogue], list[Finding]]

SEMANTIC: tuple[Detector, ...] = (no_tool_call, empty_change, repeated_call, garbled_text, doubled_word, prompt_leak, false_success, used_after_delete, entity_drift, wrong_container, temporal,
                                  unsourced_argument, unseen_reference, silent_pick, invented_name, identity_mismatch, name_mismatch, self_addressed, parameter_dictation,
                                  unconfirmed_destruction, false_finality, list_consistency, result_mismatch, implausible_denial, needless_state_change,
                                  amounts_disagree)
STRUCTURAL: tuple[Detector, ...] = (structure, call_schemas)
# What the pipeline runs after the DML validator, which has already held every call to its schema.
AFTER_VALIDATION: tuple[Detector, ...] = (structure,) + SEMANTIC


def detect(dialogue: Dialogue, *, structural: bool = False,
           detectors: tuple[Detector, ...] | None = None) -> list[Finding]:
    """Every finding of `detectors` (default: the meaning detectors, and the structural ones with
    `structural=True`), ordered by message index (conversation-wide findings first)."""
    found: list[Finding] = []
    for detector in detectors or ((STRUCTURAL if structural else ()) + SEMANTIC):
        found.extend(detector(dialogue))
    return sorted(found, key=lambda f: (f.message_index, f.code))
