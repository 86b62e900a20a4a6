"""Semantic and combined scenario dedup, with the packaged all-MiniLM-L6-v2 (offline)."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from funcdex_assets.dedup import embedder as embedder_mod
from funcdex_assets.dedup.embedder import (
    Embedder,
    EmbeddingModelError,
    default_model_path,
)
from funcdex_assets.dedup.lexical import LexicalDeduplicator
from funcdex_assets.dedup.semantic import (
    CombinedDeduplicator,
    SemanticDeduplicator,
    similarity,
)

MEETING = "Schedule a meeting with Dana next Tuesday to review the Q3 budget"
MEETING_PARAPHRASE = "Set up a Tuesday meeting with Dana about the Q3 budget review"
UNRELATED = [
    "Archive every Jira ticket closed more than a year ago",
    "Send the customer an invoice for the March order via Gmail",
    "Find the Slack thread where the outage postmortem was discussed",
    "Rename the shared Drive folder to Marketing 2024",
]


@pytest.fixture(scope="module")
def emb() -> Embedder:
    return Embedder(device="cpu").load()


def pair_similarity(emb: Embedder, a: str, b: str) -> float:
    x, y = emb.encode([a, b])
    return (float(x @ y) + 1) / 2


# -- embedder ----------------------------------------------------------------------------------

def test_embedder_packaged_model_unit_rows_and_cached(emb):
    assert (default_model_path() / "modules.json").is_file()
    out = emb.encode([MEETING, *UNRELATED])
    assert out.dtype == np.float32 and out.shape == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert emb.encode([]).shape == (0, 384)
    # One load per (model, device): the Hub name of the packaged model resolves to it too.
    again = Embedder("sentence-transformers/all-MiniLM-L6-v2", device="cpu")
    assert again._model() is emb._model()


def test_importing_does_not_import_torch():
    code = ("import sys\n"
            "from funcdex_assets.dedup.embedder import Embedder\n"
            "from funcdex_assets.dedup.semantic import SemanticDeduplicator, CombinedDeduplicator\n"
            "SemanticDeduplicator(Embedder())\n"
            "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') "
            "if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_unknown_model_name_fails_clearly(emb):
    with pytest.raises(EmbeddingModelError) as info:
        Embedder("funcdex-test/no-such-embedding-model", device="cpu").encode(["x"])
    message = str(info.value)
    assert "funcdex-test/no-such-embedding-model" in message
    assert "local model directory" in message and "hf download" in message
    with pytest.raises(EmbeddingModelError, match="does not exist"):
        Embedder("/nonexistent/model/dir", device="cpu").encode(["x"])


def test_offline_mode_only_while_loading(monkeypatch):
    from huggingface_hub import constants
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with embedder_mod._hf_offline():
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
        assert constants.HF_HUB_OFFLINE is True
    assert "HF_HUB_OFFLINE" not in os.environ and "TRANSFORMERS_OFFLINE" not in os.environ
    assert constants.HF_HUB_OFFLINE is False


# -- semantic ----------------------------------------------------------------------------------

def test_paraphrase_is_caught_and_unrelated_kept(emb):
    dedup = SemanticDeduplicator(emb)
    items = [("s1", MEETING), *[(f"u{i}", t) for i, t in enumerate(UNRELATED)],
             ("s2", MEETING_PARAPHRASE)]
    out = dedup.check_many(items)
    assert out[:-1] == [None] * 5
    dup = out[-1]
    assert dup is not None and dup.duplicate_of == "s1" and dup.reason == "semantic"
    assert dup.similarity >= 0.95
    assert dup.similarity == pytest.approx(pair_similarity(emb, MEETING, MEETING_PARAPHRASE), abs=1e-3)
    assert dedup.keys == ["s1", "u0", "u1", "u2", "u3"]


def test_threshold_is_respected(emb):
    sim = pair_similarity(emb, MEETING, MEETING_PARAPHRASE)
    above = SemanticDeduplicator(emb, threshold=min(1.0, sim + 0.002))
    assert above.check_many([("a", MEETING), ("b", MEETING_PARAPHRASE)]) == [None, None]
    at = SemanticDeduplicator(emb, threshold=sim - 0.002)
    assert at.check_many([("a", MEETING), ("b", MEETING_PARAPHRASE)])[1].duplicate_of == "a"
    with pytest.raises(ValueError):
        SemanticDeduplicator(emb, threshold=1.5)


def test_compared_with_earlier_accepted_and_seeded(emb):
    dedup = SemanticDeduplicator(emb)
    dedup.accept_all([("old", MEETING)])  # an earlier materialization
    assert dedup.check("u", UNRELATED[0]) is None
    assert dedup.check("new", MEETING_PARAPHRASE).duplicate_of == "old"
    # Across separate calls too: what one call accepted, the next is checked against.
    assert dedup.check_many([("u2", UNRELATED[1])]) == [None]
    assert dedup.check("u2again", "Via Gmail, send the customer an invoice for the March order")\
        .duplicate_of == "u2"


def unit(deg: float) -> np.ndarray:
    return np.array([math.cos(math.radians(deg)), math.sin(math.radians(deg))], np.float32)


@pytest.mark.parametrize("block_size", [1, 2, 1024])
def test_sequential_semantics_within_a_block(block_size):
    # A-B and B-C are duplicates (cos 0.92), A-C are not (cos 0.69). B is rejected, so it is
    # never accepted, and C (compared with A only) is kept: same result in any block size.
    dedup = SemanticDeduplicator(None, threshold=0.95, block_size=block_size)
    out = dedup.check_embeddings(["a", "b", "c"], np.stack([unit(0), unit(23), unit(46)]))
    assert out[0] is None and out[2] is None
    assert out[1].duplicate_of == "a" and out[1].similarity == similarity(math.cos(math.radians(23)))
    assert dedup.keys == ["a", "c"]


def naive(keys, vecs, threshold, seeded=()):
    acc_keys, acc, out = [k for k, _ in seeded], [v for _, v in seeded], []
    for key, v in zip(keys, vecs):
        sims = np.array(acc) @ v if acc else np.zeros(0)
        if len(sims) and (sims.max() + 1) / 2 >= threshold:
            out.append(acc_keys[int(sims.argmax())])
        else:
            out.append(None)
            acc_keys.append(key)
            acc.append(v)
    return out


def test_blocked_search_matches_pairwise_reference():
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(300, 16)).astype(np.float32)
    for i in range(1, 300):
        if rng.random() < 0.4:  # near copies of earlier rows
            vecs[i] = vecs[rng.integers(0, i)] + rng.normal(scale=0.25, size=16)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    keys = [f"k{i}" for i in range(300)]
    seeded = [(f"s{i}", vecs[i * 7] * -1) for i in range(10)]
    for block, chunk in [(1, 1), (7, 50), (64, 300), (1024, 1 << 22)]:
        dedup = SemanticDeduplicator(None, 0.95, block_size=block, chunk_elements=chunk)
        dedup.accept_embeddings([k for k, _ in seeded], np.stack([v for _, v in seeded]))
        got = [d and d.duplicate_of for d in dedup.check_embeddings(keys, vecs)]
        assert got == naive(keys, vecs, 0.95, seeded)
        assert 40 < sum(g is not None for g in got) < 150


# -- combined ----------------------------------------------------------------------------------

def test_combined_catches_near_copy_lexically_and_paraphrase_semantically(emb):
    dedup = CombinedDeduplicator(LexicalDeduplicator(), SemanticDeduplicator(emb))
    out = dedup.check_many([
        ("m", MEETING),
        ("u", UNRELATED[0]),
        ("copy", MEETING.upper() + "!"),                       # exact after normalising
        ("near", MEETING.replace("Schedule", "Please schedule")),  # small edit
        ("para", MEETING_PARAPHRASE),
    ])
    assert out[0] is None and out[1] is None
    assert (out[2].reason, out[2].duplicate_of) == ("exact", "m")
    assert (out[3].reason, out[3].duplicate_of) == ("near", "m")
    assert (out[4].reason, out[4].duplicate_of) == ("semantic", "m")
    assert dedup.semantic.keys == ["m", "u"]


def test_combined_sequential_within_a_batch(emb):
    dedup = CombinedDeduplicator(LexicalDeduplicator(), SemanticDeduplicator(emb))
    dedup.accept_all([("seed", UNRELATED[0])])
    para_of_para = MEETING_PARAPHRASE.replace("Set up", "Please set up")
    out = dedup.check_many([
        ("m", MEETING),              # passes both, accepted mid-batch...
        ("para", MEETING_PARAPHRASE),  # ...so this one's semantic check sees it
        ("pp", para_of_para),        # lexical near-copy of a REJECTED text: not lexical
        ("seedpara", "Archive all Jira tickets that were closed over a year ago"),
    ])
    assert out[0] is None
    assert (out[1].reason, out[1].duplicate_of) == ("semantic", "m")
    assert (out[2].reason, out[2].duplicate_of) == ("semantic", "m")
    assert (out[3].reason, out[3].duplicate_of) == ("semantic", "seed")
    # Same decisions one by one.
    one = CombinedDeduplicator(LexicalDeduplicator(), SemanticDeduplicator(emb))
    one.accept_all([("seed", UNRELATED[0])])
    items = [("m", MEETING), ("para", MEETING_PARAPHRASE), ("pp", para_of_para)]
    assert [one.check(k, t) for k, t in items] == out[:3]


def test_combined_without_semantic_is_lexical():
    dedup = CombinedDeduplicator(LexicalDeduplicator(), None)
    out = dedup.check_many([("m", MEETING), ("p", MEETING_PARAPHRASE), ("c", MEETING + ".")])
    assert out[:2] == [None, None] and out[2].reason == "exact"


def test_combined_embeds_only_lexical_survivors(emb):
    asked: list[str] = []

    class Counting:
        def encode(self, texts):
            asked.extend(texts)
            return emb.encode(texts)

    dedup = CombinedDeduplicator(LexicalDeduplicator(), SemanticDeduplicator(Counting()))
    dedup.accept_all([("m", MEETING)])
    asked.clear()
    out = dedup.check_many([("c", MEETING + "!"), ("u", UNRELATED[0]), ("u2", UNRELATED[0])])
    assert [d and d.reason for d in out] == ["exact", None, "exact"]
    assert asked == [UNRELATED[0]]  # the in-block copy rides on the same encoding
    asked.clear()
    assert dedup.check_many([("c2", MEETING.lower())])[0].reason == "exact"
    assert asked == []
