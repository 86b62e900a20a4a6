"""The asset graph. Each asset wires one stage function to resources, partitions and IO,
and reports what a person reads in the UI: rows, accepted, rejects by reason, a sample."""


import base64
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import dagster as dg
import polars as pl

from funcdex_assets.dedup.scenarios import dedup_scenarios
from funcdex_assets.defs.partitions import bundle_partitions
from funcdex_assets.backends.templates import template_version
from funcdex_assets.defs.resources import (
    CatalogResource,
    DatasetOutputResource,
    EmbedderResource,
    GenerationSettings,
    LLMResource,
)
from funcdex_assets.dml.grammar import GRAMMAR_DIR
from funcdex_assets.export.folder import read_jsonl
from funcdex_assets.frames import frame, ok, reject_counts
from funcdex_assets.quality.diversity import diversity_report, render_chart_png, render_markdown, tool_usage_counts
from funcdex_assets.hashing import derive_seed
from funcdex_assets.history import RoundHistory
from funcdex_assets.stages.accounting import request_losses, round_rejects, shortfall_reason, total_rejects
from funcdex_assets.stages.catalog import bundle_tools_frame, catalog_frame, tools_from_frame
from funcdex_assets.stages.dataset import jsonl_rows, parsed_frame
from funcdex_assets.stages.generation import (
    combinations_frame,
    combinations_wanted,
    conversations_frame,
    outlines_frame,
    personas_frame,
    scenarios_frame,
)
from funcdex_assets.stages.quality import dedup_conversations_frame, summaries_frame, summaries_from_frame
from funcdex_assets.stages.validation import finding_counts, issue_counts, scores_frame, validate_frame

GROUP = "funcdex"
# Every model-backed step claims a slot of this pool; dagster.yaml sets its limit so partitions
# never oversubscribe one GPU while each step keeps many requests in flight.
LLM_POOL = "llm"
PARTITIONED = dict(partitions_def=bundle_partitions, group_name=GROUP, io_manager_key="polars_io")
SAMPLE_CHARS = 4000


def _metadata(df: pl.DataFrame, sample: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "rows": dg.MetadataValue.int(df.height),
        "accepted": dg.MetadataValue.int(ok(df).height if "status" in df.columns else df.height),
        "rejected_by_reason": dg.MetadataValue.json(reject_counts(df)),
    }
    if sample:
        meta["sample"] = dg.MetadataValue.md(sample[:SAMPLE_CHARS])
    meta.update(extra)
    return meta


def _md_table(df: pl.DataFrame) -> str:
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.iter_rows()]
    return "\n".join(lines)


def _first_ok(df: pl.DataFrame, column: str) -> str | None:
    rows = ok(df) if "status" in df.columns else df
    return rows[column][0] if rows.height else None


def _bundle_seed(settings: GenerationSettings, bundle: str) -> int:
    # Independent per bundle: adding a bundle never changes another bundle's data.
    return derive_seed(settings.seed, bundle)


def _history(context: dg.AssetExecutionContext) -> RoundHistory:
    return RoundHistory(Path(context.instance.storage_directory()))


def _backend(context: dg.AssetExecutionContext, llm: LLMResource):
    try:
        root = context.instance.root_directory
    except Exception:  # an ephemeral instance has no folder; the resource picks a default
        root = None
    return llm.backend(Path(root) if root else None)


@contextmanager
def _model_step(context: dg.AssetExecutionContext, llm: LLMResource) -> Iterator[Any]:
    """The step's backend; if the step fails, the model calls it made are still reported (as an
    observation of the asset), so the run's totals count every call."""
    backend = _backend(context, llm)
    try:
        yield backend
    except BaseException:
        usage = _llm_metadata(backend, llm)
        if "llm_calls" in usage:
            context.log_event(dg.AssetObservation(asset_key=context.asset_key, partition=context.partition_key,
                                                  metadata={**usage, "failed": dg.MetadataValue.bool(True)}))
        raise


def _llm_metadata(backend: Any, llm: LLMResource) -> dict[str, Any]:
    """Calls, cache hits, tokens and cost of this materialization, per stage and in total."""
    usage = backend.usage()
    if not usage:
        return {"llm": dg.MetadataValue.text(llm.describe())}
    prompt = sum(u.prompt_tokens for u in usage.values())
    completion = sum(u.completion_tokens for u in usage.values())
    price_in = getattr(llm, "price_prompt_per_million", 0.0)
    price_out = getattr(llm, "price_completion_per_million", 0.0)
    return {
        "llm": dg.MetadataValue.text(llm.describe()),
        "llm_calls": dg.MetadataValue.int(sum(u.calls for u in usage.values())),
        "llm_cache_hits": dg.MetadataValue.int(sum(u.cached for u in usage.values())),
        "prompt_tokens": dg.MetadataValue.int(prompt),
        "completion_tokens": dg.MetadataValue.int(completion),
        "cost_usd": dg.MetadataValue.float(round(prompt / 1e6 * price_in + completion / 1e6 * price_out, 6)),
        "llm_usage_by_stage": dg.MetadataValue.json({k: vars(v) for k, v in sorted(usage.items())}),
    }


# Prompt templates (and grammars) are part of what an asset computes: editing one marks the
# asset stale in the UI.
def _version(*stages: str, grammar: bool = False) -> str:
    extra = ""
    if grammar:
        import hashlib

        extra = "-" + hashlib.blake2b(b"".join(p.read_bytes() for p in sorted(GRAMMAR_DIR.glob("*.gbnf"))),
                                      digest_size=4).hexdigest()
    return f"1-{template_version(*stages)}{extra}"


def _toolkits(bundle_tools: pl.DataFrame) -> list[str]:
    return sorted(bundle_tools["toolkit"].unique().to_list())


# ---------------------------------------------------------------------------------------
@dg.asset(group_name=GROUP, io_manager_key="polars_io", code_version="1")
def tool_catalog(context: dg.AssetExecutionContext, catalog: CatalogResource) -> pl.DataFrame:
    """Every tool of every toolkit file, normalised to one schema and checked against the
    JSON Schema meta-schema. A bad definition fails here with file, toolkit, tool and reason."""
    cat = catalog.load()
    df = catalog_frame(cat)
    per_toolkit = df.group_by("toolkit").len().sort("toolkit")
    context.add_output_metadata({
        "rows": dg.MetadataValue.int(df.height),
        "toolkits": dg.MetadataValue.json({r["toolkit"]: r["len"] for r in per_toolkit.iter_rows(named=True)}),
        "bundles": dg.MetadataValue.json({b.name: list(b.toolkits) for b in cat.bundles}),
        "directory": dg.MetadataValue.path(str(catalog.path())),
    })
    return df


# bundle_tools reads the toolkit files itself rather than the tool_catalog frame, so a bundle
# run (from the sensor, a backfill, the UI) never depends on the catalog having been
# materialized first; the dependency stays in the graph for lineage and staleness.
@dg.asset(**PARTITIONED, code_version="1", deps=["tool_catalog"])
def bundle_tools(context: dg.AssetExecutionContext, catalog: CatalogResource) -> pl.DataFrame:
    """The tools of this bundle's toolkits."""
    cat = catalog.load()
    df = bundle_tools_frame(catalog_frame(cat), cat.bundle(context.partition_key))
    context.add_output_metadata(_metadata(df, sample="\n".join(f"- `{n}`" for n in df["name"].to_list())))
    return df


@dg.asset(**PARTITIONED, code_version="2")
def tool_combinations(context: dg.AssetExecutionContext, settings: GenerationSettings,
                      bundle_tools: pl.DataFrame) -> pl.DataFrame:
    """Grounded tool chains sampled from the tool graph (ids flow from earlier to later calls)."""
    bundle = context.partition_key
    history = _history(context)
    # A round samples only for the rows the bundle still lacks: rows earlier rounds exported stay.
    exported_before = len(history.items_before("exported", [bundle], settings.seed))
    n = combinations_wanted(settings.target(bundle), exported_before, settings.oversample)
    tools = tools_from_frame(bundle_tools)
    # Coverage: tools earlier rounds (other seeds) used least are sampled more this round.
    usage = history.usage_before(bundle, settings.seed)
    df = combinations_frame(tools, bundle, n, _bundle_seed(settings, bundle), usage=usage,
                            mean_length=settings.tool_calls_per_conversation)
    used = sorted({name for chain in df["tools"].to_list() for name in chain})
    unused = sorted(set(t.name for t in tools) - set(used))
    if df.height < n:
        context.log.warning(f"{bundle}: the tool graph yields only {df.height} distinct chains (wanted {n})")
    sample = "\n".join(" -> ".join(row) for row in df["tools"].head(5).to_list())
    context.add_output_metadata(_metadata(df, sample=sample, tools_never_sampled=dg.MetadataValue.json(unused),
                                          earlier_rounds_tool_usage=dg.MetadataValue.json(usage),
                                          exported_by_earlier_rounds=dg.MetadataValue.int(exported_before),
                                          wanted_this_round=dg.MetadataValue.int(n)))
    return df


@dg.asset(**PARTITIONED, code_version=_version("scenario"), pool=LLM_POOL)
def scenarios(context: dg.AssetExecutionContext, settings: GenerationSettings, llm: LLMResource,
              bundle_tools: pl.DataFrame, tool_combinations: pl.DataFrame) -> pl.DataFrame:
    """One user workflow per tool combination."""
    bundle = context.partition_key
    with _model_step(context, llm) as backend:
        df = scenarios_frame(tool_combinations, tools_from_frame(bundle_tools), backend,
                             _bundle_seed(settings, bundle), bundle,
                             workflow=settings.workflow_descriptions.get(bundle))
        context.add_output_metadata(_metadata(df, sample=_first_ok(df, "scenario"), **_llm_metadata(backend, llm)))
        return df


@dg.asset(**PARTITIONED, code_version="1")
def deduplicated_scenarios(context: dg.AssetExecutionContext, settings: GenerationSettings,
                           embedder: EmbedderResource, scenarios: pl.DataFrame) -> pl.DataFrame:
    """Scenarios with duplicates marked `duplicate`: exact, near-lexical (MinHash/LSH) and
    semantic (sentence embeddings), checked against each other and against every scenario
    earlier rounds (other seeds) accepted."""
    bundle = context.partition_key
    history = _history(context)
    bundles = sorted(set(history.known_bundles()) | {bundle}) if settings.dedup_across_bundles else [bundle]
    earlier = history.items_before("scenarios", bundles, settings.seed)
    df = dedup_scenarios(scenarios, settings.near_duplicate_threshold, accepted_before=earlier,
                         semantic=embedder.deduplicator(settings.semantic_duplicate_threshold))
    kept = ok(df)
    history.record_items("scenarios", bundle, settings.seed, zip(kept["scenario_id"].to_list(), kept["scenario"].to_list()))
    context.add_output_metadata(_metadata(df, sample=_first_ok(df, "scenario"),
                                          compared_with_earlier_rounds=dg.MetadataValue.int(len(earlier)),
                                          embedder=dg.MetadataValue.text(embedder.describe())))
    return df


@dg.asset(**PARTITIONED, code_version=_version("persona"), pool=LLM_POOL)
def personas(context: dg.AssetExecutionContext, settings: GenerationSettings, llm: LLMResource,
             bundle_tools: pl.DataFrame, deduplicated_scenarios: pl.DataFrame) -> pl.DataFrame:
    """A user persona (who they are, how clearly they ask) per accepted scenario."""
    bundle = context.partition_key
    with _model_step(context, llm) as backend:
        df = personas_frame(deduplicated_scenarios, backend, _bundle_seed(settings, bundle), bundle,
                            _toolkits(bundle_tools))
        sample = _first_ok(df, "persona")
        context.add_output_metadata(_metadata(df, sample=f"```json\n{json.dumps(json.loads(sample), indent=2)}\n```"
                                              if sample else None, **_llm_metadata(backend, llm)))
        return df


@dg.asset(**PARTITIONED, code_version=_version("tool_selection", "outline"), pool=LLM_POOL)
def outlines(context: dg.AssetExecutionContext, settings: GenerationSettings, llm: LLMResource,
             bundle_tools: pl.DataFrame, tool_combinations: pl.DataFrame, deduplicated_scenarios: pl.DataFrame,
             personas: pl.DataFrame) -> pl.DataFrame:
    """How each conversation will go, step by step, and which tools the assistant is offered."""
    bundle = context.partition_key
    with _model_step(context, llm) as backend:
        df = outlines_frame(personas, deduplicated_scenarios, tool_combinations, tools_from_frame(bundle_tools),
                            backend, _bundle_seed(settings, bundle), bundle, settings.include_assistant_thoughts)
        context.add_output_metadata(_metadata(df, sample=_first_ok(df, "outline"), **_llm_metadata(backend, llm)))
        return df


@dg.asset(**PARTITIONED, code_version=_version("conversation", "repair", "system_prompt", grammar=True), pool=LLM_POOL)
def dml_conversations(context: dg.AssetExecutionContext, settings: GenerationSettings, llm: LLMResource,
                      bundle_tools: pl.DataFrame, deduplicated_scenarios: pl.DataFrame,
                      personas: pl.DataFrame, outlines: pl.DataFrame) -> pl.DataFrame:
    """Conversations written in DML, plus a system prompt for each."""
    bundle = context.partition_key
    with _model_step(context, llm) as backend:
        df = conversations_frame(outlines, personas, deduplicated_scenarios, tools_from_frame(bundle_tools),
                                 backend, _bundle_seed(settings, bundle), bundle, _toolkits(bundle_tools),
                                 min_user_turns=settings.min_user_turns)
        sample = _first_ok(df, "dml")
        stats = getattr(backend, "conversation_stats", None)
        extra = {"repair_loop": dg.MetadataValue.json(vars(stats))} if stats is not None else {}
        context.add_output_metadata(_metadata(df, sample=f"```\n{sample}\n```" if sample else None,
                                              **_llm_metadata(backend, llm), **extra))
        return df


@dg.asset(**PARTITIONED, code_version="1")
def validated_conversations(context: dg.AssetExecutionContext, settings: GenerationSettings,
                            bundle_tools: pl.DataFrame, dml_conversations: pl.DataFrame) -> pl.DataFrame:
    """DML parsed and checked: turn order, every call answered, known tools, schema-valid
    arguments and responses; then read by the meaning detectors (findings per conversation,
    docs/quality.md). Rejects keep every issue with its DML line; conversations the generator
    rejected keep their text and are checked too."""
    df = validate_frame(dml_conversations, tools_from_frame(bundle_tools), min_user_turns=settings.min_user_turns,
                        include_thoughts=settings.include_assistant_thoughts)
    valid = ok(df)
    id_args = int(valid["id_arguments"].sum() or 0)
    grounded = int(valid["id_arguments_grounded"].sum() or 0)
    defective = int((valid["finding_codes"].list.len() > 0).sum() or 0)
    context.add_output_metadata(_metadata(
        df,
        sample=_first_ok(df, "dml") and f"```\n{_first_ok(df, 'dml')}\n```",
        rejected_by_issue=dg.MetadataValue.json(issue_counts(df)),
        meaning_defects=dg.MetadataValue.json(finding_counts(df)),
        conversations_with_defects=dg.MetadataValue.int(defective),
        semantic_defect_rate=dg.MetadataValue.float(round(defective / valid.height, 4) if valid.height else 0.0),
        id_arguments=dg.MetadataValue.int(id_args),
        id_arguments_grounded=dg.MetadataValue.int(grounded),
        id_grounding_rate=dg.MetadataValue.float(grounded / id_args if id_args else 1.0),
        mean_tool_calls=dg.MetadataValue.float(float(valid["tool_calls"].mean() or 0.0)),
        mean_user_turns=dg.MetadataValue.float(float(valid["user_turns"].mean() or 0.0)),
    ))
    return df


@dg.asset(**PARTITIONED, code_version=_version("judge"), pool=LLM_POOL)
def conversation_scores(context: dg.AssetExecutionContext, settings: GenerationSettings, llm: LLMResource,
                        bundle_tools: pl.DataFrame, deduplicated_scenarios: pl.DataFrame, personas: pl.DataFrame,
                        validated_conversations: pl.DataFrame) -> pl.DataFrame:
    """Judge scores (user_query_clarity, tool_use_quality, 1-5 with reasons); `passed` when
    tool_use_quality reaches the configured minimum."""
    bundle = context.partition_key
    with _model_step(context, llm) as backend:
        df = scores_frame(validated_conversations, personas, deduplicated_scenarios, tools_from_frame(bundle_tools),
                          backend, _bundle_seed(settings, bundle), bundle, settings.min_tool_use_quality)
        scored = df.filter(pl.col("tool_use_quality").is_not_null())
        context.add_output_metadata(_metadata(
            df,
            mean_tool_use_quality=dg.MetadataValue.float(float(scored["tool_use_quality"].mean() or 0.0)),
            mean_user_query_clarity=dg.MetadataValue.float(float(scored["user_query_clarity"].mean() or 0.0)),
            **_llm_metadata(backend, llm),
        ))
        return df


@dg.asset(**PARTITIONED, code_version="1")
def deduplicated_conversations(context: dg.AssetExecutionContext, settings: GenerationSettings,
                               validated_conversations: pl.DataFrame,
                               conversation_scores: pl.DataFrame) -> pl.DataFrame:
    """Valid, judge-passed conversations with near duplicates marked (same calls with the same
    arguments, or MinHash-similar user and assistant text), also against earlier rounds; every
    duplicate names the kept conversation it repeats."""
    bundle = context.partition_key
    history = _history(context)
    earlier = history.items_before("conversations", [bundle], settings.seed)
    df = dedup_conversations_frame(validated_conversations, conversation_scores,
                                   settings.conversation_duplicate_threshold, accepted_before=earlier)
    kept = set(ok(df)["conversation_id"].to_list())
    history.record_items("conversations", bundle, settings.seed,
                         [(r["conversation_id"], r["dml"]) for r in validated_conversations.iter_rows(named=True)
                          if r["conversation_id"] in kept])
    dupes = df.filter(pl.col("status") == "duplicate").select("conversation_id", "duplicate_of", "reject_reason")
    context.add_output_metadata(_metadata(
        df, compared_with_earlier_rounds=dg.MetadataValue.int(len(earlier)),
        duplicates=dg.MetadataValue.md(_md_table(dupes.head(20)) if dupes.height else "none")))
    return df


@dg.asset(**PARTITIONED, code_version="1")
def parsed_dataset(context: dg.AssetExecutionContext, settings: GenerationSettings, llm: LLMResource,
                   output: DatasetOutputResource, bundle_tools: pl.DataFrame, scenarios: pl.DataFrame,
                   deduplicated_scenarios: pl.DataFrame, personas: pl.DataFrame, outlines: pl.DataFrame,
                   dml_conversations: pl.DataFrame, validated_conversations: pl.DataFrame,
                   conversation_scores: pl.DataFrame, deduplicated_conversations: pl.DataFrame) -> pl.DataFrame:
    """Accepted conversations in the TRL / OpenAI tool-calling format. Run alone (from the UI,
    the sensor, a backfill) it also publishes the bundle into the output folder as a new
    version (<output>/<bundle>/conversations.jsonl and the train/test files); `funcdex
    generate` publishes its whole round at once through `training_dataset` instead.

    Fails, publishing nothing, when model requests failed after their retries and lost rows
    or system prompts (a rerun fills them; `allow_incomplete_rows` exports without them), and
    when the round wanted rows but added none (naming the dominant reject and its fix)."""
    bundle = context.partition_key
    stages = [("scenarios", scenarios, "scenario_id"), ("deduplicated_scenarios", deduplicated_scenarios, "scenario_id"),
              ("personas", personas, "persona_id"), ("outlines", outlines, "outline_id"),
              ("dml_conversations", dml_conversations, "conversation_id"),
              ("validated_conversations", validated_conversations, "conversation_id"),
              ("conversation_scores", conversation_scores, "conversation_id"),
              ("deduplicated_conversations", deduplicated_conversations, "conversation_id")]
    rejects = round_rejects(stages)
    losses = request_losses(stages, dml_conversations)
    if losses and not settings.allow_incomplete_rows:
        raise dg.Failure(description=f"{bundle}: nothing published: {losses.describe()}",
                         metadata={"rejects_by_stage": dg.MetadataValue.json(rejects)})
    if losses:
        context.log.warning(f"{bundle}: exported without what failed (allow_incomplete_rows): {losses.describe()}")
    history = _history(context)
    # Rows earlier rounds exported are kept; this round tops the bundle up to the target.
    kept = frame("parsed_dataset", [json.loads(text) for _, text in
                                    history.items_before("exported", [bundle], settings.seed)])
    target = settings.target(bundle)
    new = parsed_frame(validated_conversations, conversation_scores, outlines, tools_from_frame(bundle_tools),
                       bundle, _toolkits(bundle_tools), max(0, target - kept.height),
                       settings.system_prompt_dropout, _bundle_seed(settings, bundle),
                       deduplicated=deduplicated_conversations, allow_incomplete=settings.allow_incomplete_rows)
    wanted = max(0, target - kept.height)
    if wanted and new.is_empty():
        raise dg.Failure(description=f"{bundle}: this round added no conversation ({wanted} wanted): "
                                     f"{shortfall_reason(rejects)}",
                         metadata={"rejects_by_stage": dg.MetadataValue.json(rejects)})
    history.record_items("exported", bundle, settings.seed,
                         [(r["conversation_id"], json.dumps(r, ensure_ascii=False)) for r in new.iter_rows(named=True)])
    df = pl.concat([kept, new])
    shortfall = None
    if new.height < wanted:
        shortfall = (f"{bundle}: this round added {new.height} of {wanted} wanted conversations; "
                     f"{shortfall_reason(rejects)}")
        context.log.warning(shortfall)
    sample = df["messages"][0] if df.height else None
    published = (_publish(context, settings, llm, output, {bundle: df}, {bundle: context.run.run_id})[0]
                 if output.publish_bundles else {})
    context.add_output_metadata(_metadata(
        df,
        sample=f"```json\n{json.dumps(json.loads(sample), indent=1, ensure_ascii=False)}\n```" if sample else None,
        target=dg.MetadataValue.int(target),
        kept_from_earlier_rounds=dg.MetadataValue.int(kept.height),
        added_this_round=dg.MetadataValue.int(new.height),
        wanted_this_round=dg.MetadataValue.int(wanted),
        rejects_by_stage=dg.MetadataValue.json(rejects),
        rejected_by_reason=dg.MetadataValue.json(total_rejects(rejects)),
        shortfall=dg.MetadataValue.text(shortfall or ""),
        lost_to_request_failures=dg.MetadataValue.text(losses.describe() if losses else ""),
        **published,
    ))
    return df


def _publish(context: dg.AssetExecutionContext, settings: GenerationSettings, llm: LLMResource,
             output: DatasetOutputResource, frames: dict[str, pl.DataFrame],
             run_ids: dict[str, str]):
    """Publish `frames` (bundle -> parsed rows) as a new version of the output folder:
    (metadata that says what was written, the PublishResult). Splits given anywhere are kept."""
    from funcdex_assets.export.folder import BundleUpdate
    from funcdex_assets.release import code_version

    history = _history(context)
    folder = output.folder()
    updates = {b: BundleUpdate(rows=jsonl_rows(df), seed=settings.seed, model=llm.describe(), run_id=run_ids.get(b))
               for b, df in frames.items()}
    result = folder.publish(updates, test_fraction=settings.test_fraction, seed=settings.seed,
                            code_version=code_version(), model=llm.describe(),
                            run_ids=[*sorted(set(run_ids.values()) - {context.run.run_id}), context.run.run_id],
                            prior_splits=history.splits(sorted(frames)),
                            duplicate_threshold=settings.conversation_duplicate_threshold)
    for bundle, df in frames.items():
        ids = set(df["conversation_id"].to_list())
        history.record_splits(bundle, settings.seed, {k: v for k, v in result.splits.items() if k in ids})
    manifest = result.manifest
    for note in manifest.notes:
        context.log.warning(note)
    return {
        "version": dg.MetadataValue.text(manifest.version),
        "version_path": dg.MetadataValue.path(str(result.path)),
        "split": dg.MetadataValue.json({"train": manifest.rows("train"), "test": manifest.rows("test")}),
        "bundles_in_folder": dg.MetadataValue.json({b: e.rows for b, e in manifest.bundles.items()}),
        "notes": dg.MetadataValue.json(manifest.notes),
    }, result


def _diversity_metadata(context: dg.AssetExecutionContext, report, name: str) -> dict[str, Any]:
    chart = render_chart_png(report, Path(context.instance.storage_directory()) / "charts" / f"{name}.png")
    encoded = base64.b64encode(chart.read_bytes()).decode("ascii")
    return {
        "diversity": dg.MetadataValue.md(render_markdown(report) + f"\n\n![diversity](data:image/png;base64,{encoded})"),
        "figures": dg.MetadataValue.json(report.to_dict()),
        "chart": dg.MetadataValue.path(str(chart)),
    }


@dg.asset(**PARTITIONED, code_version="1")
def conversation_diversity(context: dg.AssetExecutionContext, settings: GenerationSettings,
                           bundle_tools: pl.DataFrame, parsed_dataset: pl.DataFrame) -> pl.DataFrame:
    """Diversity of the bundle's exported conversations: distinct tool sequences, tool coverage
    and the least-used tools, usage entropy, distinct-n of user turns, tool-set dissimilarity,
    lengths. Tool usage is recorded so the next round samples rarely used tools more."""
    bundle = context.partition_key
    df = summaries_frame(parsed_dataset)
    summaries = summaries_from_frame(df)
    names = sorted(bundle_tools["name"].to_list())
    history = _history(context)
    # Usage is recorded per round: only this round's rows, or kept rows would count twice.
    earlier = {key for key, _ in history.items_before("exported", [bundle], settings.seed)}
    this_round = summaries_from_frame(df.filter(~pl.col("conversation_id").is_in(list(earlier))))
    history.record_usage(bundle, settings.seed, tool_usage_counts(this_round, names))
    context.add_output_metadata({"rows": dg.MetadataValue.int(df.height),
                                 **_diversity_metadata(context, diversity_report(summaries, names), bundle)})
    return df


class MergedConfig(dg.Config):
    bundles: list[str] = []  # empty: every materialized bundle


@dg.asset(group_name=GROUP, io_manager_key="polars_io", code_version="1",
          ins={"conversation_diversity": dg.AssetIn(metadata={"allow_missing_partitions": True})})
def dataset_diversity(context: dg.AssetExecutionContext, config: MergedConfig, catalog: CatalogResource,
                      conversation_diversity) -> pl.DataFrame:
    """Diversity across bundles (the same figures over every exported conversation)."""
    frames = _partition_frames(context, "conversation_diversity", conversation_diversity, config.bundles)
    cat = catalog.load()
    names = sorted({t.name for b in frames for t in cat.bundle_tools(b)})
    summaries = [s for b in sorted(frames) for s in summaries_from_frame(frames[b])]
    report = diversity_report(summaries, names)
    context.add_output_metadata({"bundles": dg.MetadataValue.json(sorted(frames)),
                                 **_diversity_metadata(context, report, "all_bundles")})
    return frame("dataset_diversity", [{"bundles": sorted(frames), "report": json.dumps(report.to_dict())}])


def _partition_frames(context: dg.AssetExecutionContext, name: str, value, wanted: list[str]) -> dict[str, pl.DataFrame]:
    """All-partition input as {bundle: frame}, limited to `wanted` (empty: all)."""
    if not isinstance(value, dict):
        # The IO manager hands over a bare frame, not a dict, when only one partition exists.
        value = {context.asset_partition_keys_for_input(name)[0]: value}
    frames = {b: df for b, df in value.items() if not wanted or b in wanted}
    missing = sorted(set(wanted) - set(frames))
    if missing:
        raise dg.Failure(description=f"no materialized {name} for bundle(s) {', '.join(missing)}; "
                                     "materialize those partitions first (or drop them from `bundles`)")
    return {b: (df.collect() if isinstance(df, pl.LazyFrame) else df) for b, df in frames.items()}


TrainingDatasetConfig = MergedConfig


def _materialization_run_ids(context: dg.AssetExecutionContext, asset: str, bundles: list[str]) -> dict[str, str]:
    """bundle -> the run that last materialized `asset` for it (for the manifest)."""
    out: dict[str, str] = {}
    for bundle in bundles:
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[bundle]), limit=1).records
        if records:
            out[bundle] = records[0].run_id
    return out


@dg.asset(group_name=GROUP, io_manager_key="polars_io", code_version="1",
          ins={"parsed_dataset": dg.AssetIn(metadata={"allow_missing_partitions": True})})
def training_dataset(context: dg.AssetExecutionContext, config: TrainingDatasetConfig, settings: GenerationSettings,
                     llm: LLMResource, output: DatasetOutputResource, parsed_dataset) -> pl.DataFrame:
    """The bundles (`bundles`, or every materialized one) published together as one new
    version of the output folder: their <bundle>/conversations.jsonl and train.jsonl /
    test.jsonl over every bundle the folder holds, with a manifest (docs/outputs.md). A
    conversation keeps the split it was first given; new ones are split per bundle."""
    frames = _partition_frames(context, "parsed_dataset", parsed_dataset, config.bundles)
    published, result = _publish(context, settings, llm, output, frames,
                                 _materialization_run_ids(context, "parsed_dataset", sorted(frames)))
    rows = [{**row, "messages": json.dumps(row["messages"], ensure_ascii=False),
             "tools": json.dumps(row["tools"], ensure_ascii=False),
             "metadata": json.dumps(row["metadata"], ensure_ascii=False), "split": split}
            for split in ("train", "test") for row in read_jsonl(result.path / f"{split}.jsonl")]
    df = frame("training_dataset", rows)
    context.add_output_metadata({
        "rows": dg.MetadataValue.int(df.height),
        "bundles": dg.MetadataValue.json(sorted(frames)),
        "train_jsonl": dg.MetadataValue.path(str(output.path() / "train.jsonl")),
        "test_jsonl": dg.MetadataValue.path(str(output.path() / "test.jsonl")),
        **published,
    })
    return df


BUNDLE_ASSETS = [bundle_tools, tool_combinations, scenarios, deduplicated_scenarios, personas, outlines,
                 dml_conversations, validated_conversations, conversation_scores, deduplicated_conversations,
                 parsed_dataset, conversation_diversity]
MERGED_ASSETS = [training_dataset, dataset_diversity]
ALL_ASSETS = [tool_catalog, *BUNDLE_ASSETS, *MERGED_ASSETS]
