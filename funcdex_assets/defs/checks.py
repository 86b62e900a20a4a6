"""Asset checks, per bundle partition. Blocking ones stop bad data from flowing downstream."""

import json
import warnings

import dagster as dg
import polars as pl

from funcdex_assets.defs.assets import (
    conversation_scores,
    deduplicated_conversations,
    dml_conversations,
    outlines,
    parsed_dataset,
    personas,
    scenarios,
    validated_conversations,
)
from funcdex_assets.defs.partitions import bundle_partitions
from funcdex_assets.defs.resources import GenerationSettings
from funcdex_assets.quality import checks

# Per-partition checks are a Dagster preview feature, used knowingly; keep the CLI output clean.
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec",
                        category=dg.PreviewWarning)


def _result(outcome: checks.CheckOutcome, severity=dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed, severity=severity, description=outcome.summary,
        metadata={"summary": dg.MetadataValue.text(outcome.summary),
                  "details": dg.MetadataValue.json(json.loads(json.dumps(outcome.details, default=str)))},
    )


@dg.asset_check(asset=validated_conversations, blocking=True, partitions_def=bundle_partitions,
                description="Share of written conversations (rejected ones included) that parse as DML.")
def dml_parse_rate(settings: GenerationSettings, validated_conversations: pl.DataFrame) -> dg.AssetCheckResult:
    return _result(checks.dml_parse_rate(validated_conversations, settings.min_parse_rate))


@dg.asset_check(asset=validated_conversations, blocking=True, partitions_def=bundle_partitions,
                description="Share of parsed conversations (rejected ones included) whose tool-call arguments "
                            "match the schemas.")
def tool_call_schema_validity(settings: GenerationSettings,
                              validated_conversations: pl.DataFrame) -> dg.AssetCheckResult:
    return _result(checks.argument_validity(validated_conversations, settings.min_argument_validity))


@dg.asset_check(asset=validated_conversations, blocking=True, partitions_def=bundle_partitions,
                description="Share of accepted conversations with a meaning defect (false success, use after "
                            "delete, invented values, dictated parameters, ...; docs/quality.md).")
def semantic_defect_rate(settings: GenerationSettings,
                         validated_conversations: pl.DataFrame) -> dg.AssetCheckResult:
    # auto: an error on every backend; the embedded generator is held to the bar a model is.
    severity = "error" if settings.semantic_check_severity == "auto" else settings.semantic_check_severity
    return _result(checks.semantic_defect_rate(validated_conversations, settings.max_semantic_defect_rate),
                   severity=dg.AssetCheckSeverity.WARN if severity == "warn" else dg.AssetCheckSeverity.ERROR)


def _stage_rejects_check(asset, what: str):
    @dg.asset_check(asset=asset, name="stage_rejects", blocking=True, partitions_def=bundle_partitions,
                    description=f"The stage rejects at most max_stage_reject_rate of its {what}; the failure names "
                                "the dominant reason and its fix.")
    def _check(settings: GenerationSettings, frame: pl.DataFrame) -> dg.AssetCheckResult:
        return _result(checks.stage_rejects(frame, what, settings.max_stage_reject_rate))

    return _check


STAGE_REJECT_CHECKS = [_stage_rejects_check(scenarios, "scenarios"), _stage_rejects_check(personas, "personas"),
                       _stage_rejects_check(outlines, "outlines"),
                       _stage_rejects_check(dml_conversations, "conversations")]


@dg.asset_check(asset=conversation_scores, blocking=True, partitions_def=bundle_partitions,
                description="Share of judged conversations that pass the judge.")
def judge_pass_rate(settings: GenerationSettings, conversation_scores: pl.DataFrame) -> dg.AssetCheckResult:
    return _result(checks.judge_pass_rate(conversation_scores, settings.min_judge_pass_rate))


@dg.asset_check(asset=deduplicated_conversations, blocking=False, partitions_def=bundle_partitions,
                description="Share of conversations removed as near duplicates (a warning: they are removed).")
def duplicate_rate(settings: GenerationSettings, deduplicated_conversations: pl.DataFrame) -> dg.AssetCheckResult:
    return _result(checks.duplicate_rate(deduplicated_conversations, settings.max_duplicate_rate),
                   severity=dg.AssetCheckSeverity.WARN)


@dg.asset_check(asset=parsed_dataset, blocking=True, partitions_def=bundle_partitions,
                description="Every tool call in the exported rows has its tool response.")
def every_call_answered(parsed_dataset: pl.DataFrame) -> dg.AssetCheckResult:
    return _result(checks.every_call_answered(parsed_dataset))


@dg.asset_check(asset=parsed_dataset, blocking=True, partitions_def=bundle_partitions,
                description="The bundle exports at least the minimum number of conversations.")
def minimum_conversations(settings: GenerationSettings, parsed_dataset: pl.DataFrame) -> dg.AssetCheckResult:
    return _result(checks.minimum_conversations(parsed_dataset, settings.min_conversations_per_bundle))


ALL_CHECKS = [*STAGE_REJECT_CHECKS, dml_parse_rate, tool_call_schema_validity, semantic_defect_rate, judge_pass_rate,
              duplicate_rate, every_call_answered, minimum_conversations]
