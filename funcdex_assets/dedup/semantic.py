"""Semantic near-duplicate detection (sentence embeddings), alone or after the lexical pass.

Similarity is the reference pipeline's `(cos + 1) / 2` on L2-normalised embeddings; a text is a
duplicate when its similarity with some accepted text is >= the threshold (0.95 there, i.e.
cosine >= 0.9).

Semantics are sequential, like `LexicalDeduplicator`: each text is compared with everything
accepted before it (seeded texts included), and only texts found unique are accepted. It is
computed in blocks so that 100k texts need neither an n x n matrix nor a Python loop over
pairs: a block of embeddings is compared with all accepted embeddings in chunks (one matrix
product per chunk, keeping only the row maxima), then within the block (block x block), where
the few rows with an in-block candidate are resolved in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from funcdex_assets.dedup.lexical import (
    Duplicate,
    LexicalDeduplicator,
    minhash,
    normalise,
)

if TYPE_CHECKING:
    from funcdex_assets.dedup.embedder import Embedder

BLOCK = 1024               # texts embedded and resolved together
CHUNK_ELEMENTS = 1 << 22   # block x accepted-rows similarities computed at once (16 MiB)


def similarity(cos: float) -> float:
    """The reference pipeline's similarity, rounded for reports."""
    return round(min(1.0, max(0.0, (float(cos) + 1.0) / 2.0)), 4)


class SemanticDeduplicator:
    """Accepts texts in order; each is checked against every text accepted before it.

    `embedder` is an `Embedder` (anything with `encode(texts) -> (n, d) unit rows`); None
    when only embeddings are passed in (`check_embeddings`, `accept_embeddings`).
    """

    def __init__(self, embedder: Embedder | None, threshold: float = 0.95, block_size: int = BLOCK,
                 chunk_elements: int = CHUNK_ELEMENTS):
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold is a (cos + 1) / 2 similarity in [0, 1], got {threshold}")
        self.embedder = embedder
        self.threshold = threshold
        self.block_size = block_size
        self.chunk_elements = chunk_elements
        self.keys: list[str] = []
        self._emb: np.ndarray | None = None  # (capacity, d); rows [:len(self)] are accepted

    @property
    def cos_threshold(self) -> np.float32:
        return np.float32(2.0 * self.threshold - 1.0)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def embeddings(self) -> np.ndarray:
        """The accepted embeddings, in acceptance order (a view)."""
        if self._emb is None:
            return np.zeros((0, 0), dtype=np.float32)
        return self._emb[:len(self)]

    # -- public API ------------------------------------------------------------------------

    def check(self, key: str, text: str) -> Duplicate | None:
        """The duplicate found for `text`, or None after accepting it under `key`."""
        return self.check_many([(key, text)])[0]

    def check_many(self, items: Sequence[tuple[str, str]],
                   embeddings: np.ndarray | None = None) -> list[Duplicate | None]:
        """`check` for each item in order (embedded block by block unless given)."""
        if embeddings is not None:
            return self.check_embeddings([k for k, _ in items], embeddings)
        out: list[Duplicate | None] = []
        for start in range(0, len(items), self.block_size):
            block = items[start:start + self.block_size]
            out += self._resolve([k for k, _ in block], self.embed([t for _, t in block]))
        return out

    def check_embeddings(self, keys: Sequence[str], embeddings: np.ndarray) -> list[Duplicate | None]:
        """`check_many` on precomputed unit-length embeddings (n, d), one row per key."""
        embeddings = self._as_rows(embeddings, len(keys))
        out: list[Duplicate | None] = []
        for start in range(0, len(keys), self.block_size):
            stop = start + self.block_size
            out += self._resolve(list(keys[start:stop]), embeddings[start:stop])
        return out

    def accept_all(self, items: Iterable[tuple[str, str]]) -> None:
        """Seed with texts already accepted (earlier materializations, other bundles).

        They are all indexed as given, without checking them against each other: they were
        accepted already, and skipping the search keeps seeding cheap.
        """
        items = list(items)
        for start in range(0, len(items), self.block_size):
            block = items[start:start + self.block_size]
            self.accept_embeddings([k for k, _ in block], self.embed([t for _, t in block]))

    def accept_embeddings(self, keys: Sequence[str], embeddings: np.ndarray) -> None:
        self._add(list(keys), self._as_rows(embeddings, len(keys)))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of `texts`, each distinct text encoded once."""
        texts = list(texts)
        unique = list(dict.fromkeys(texts))
        emb = self.embedder.encode(unique)
        if len(unique) == len(texts):
            return emb
        row = {t: i for i, t in enumerate(unique)}
        return emb[[row[t] for t in texts]]

    # -- building blocks (also used by CombinedDeduplicator) -------------------------------

    def best_accepted(self, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each row: the highest cosine with an accepted embedding (-inf when none) and,
        where that reaches the threshold, the accepted index it came from (else -1)."""
        b = len(block)
        best = np.full(b, -np.inf, dtype=np.float32)
        where = np.full(b, -1, dtype=np.int64)
        n = len(self)
        if b == 0 or n == 0:
            return best, where
        step = max(1, self.chunk_elements // b)
        buf = np.empty((b, min(step, n)), dtype=np.float32)
        thr = self.cos_threshold
        assert self._emb is not None
        for c0 in range(0, n, step):
            chunk = self._emb[c0:min(n, c0 + step)]
            sims = buf if len(chunk) == buf.shape[1] else np.empty((b, len(chunk)), np.float32)
            np.matmul(block, chunk.T, out=sims)
            top = sims.max(axis=1)
            better = top > best
            hit = better & (top >= thr)
            np.maximum(best, top, out=best)
            if hit.any():
                rows = np.flatnonzero(hit)
                where[rows] = c0 + sims[rows].argmax(axis=1)
        return best, where

    def _resolve(self, keys: list[str], block: np.ndarray) -> list[Duplicate | None]:
        """Check one block in order, then accept its unique rows."""
        b = len(keys)
        if b == 0:
            return []
        thr = self.cos_threshold
        best, where = self.best_accepted(block)
        cand = in_block_candidates(block, thr)
        accepted = best < thr  # final for rows with no in-block candidate
        out: list[Duplicate | None] = [None] * b
        for i in np.flatnonzero(cand.any(axis=1)):
            prior = np.flatnonzero(cand[i, :i] & accepted[:i])
            if len(prior):
                accepted[i] = False
                j = prior[np.argmax(block[prior] @ block[i])]
                cos = float(block[j] @ block[i])
                if cos > best[i]:  # the in-block match is the closer one
                    out[i] = Duplicate(keys[j], similarity(cos), "semantic")
        for i in np.flatnonzero(~accepted):
            if out[i] is None:
                out[i] = Duplicate(self.keys[where[i]], similarity(best[i]), "semantic")
        self._add([keys[i] for i in np.flatnonzero(accepted)], block[accepted])
        return out

    def _as_rows(self, embeddings: np.ndarray, n: int) -> np.ndarray:
        emb = np.ascontiguousarray(embeddings, dtype=np.float32)
        if emb.ndim != 2 or len(emb) != n:
            raise ValueError(f"expected ({n}, d) embeddings, got shape {emb.shape}")
        if self._emb is not None and emb.shape[1] != self._emb.shape[1]:
            raise ValueError(f"embedding dimension {emb.shape[1]} != {self._emb.shape[1]} of "
                             "the accepted ones (different model?)")
        return emb

    def _add(self, keys: list[str], rows: np.ndarray) -> None:
        if not keys:
            return
        n, need = len(self), len(self) + len(keys)
        if self._emb is None or need > len(self._emb):
            capacity = max(need, 2 * (0 if self._emb is None else len(self._emb)), 1024)
            grown = np.empty((capacity, rows.shape[1]), dtype=np.float32)
            if self._emb is not None:
                grown[:n] = self._emb[:n]
            self._emb = grown
        self._emb[n:need] = rows
        self.keys.extend(keys)


def in_block_candidates(block: np.ndarray, cos_threshold: np.float32) -> np.ndarray:
    """(b, b) bool: cand[i, j] when j < i and their cosine reaches the threshold."""
    sims = block @ block.T
    return (sims >= cos_threshold) & np.tri(len(block), k=-1, dtype=bool)


class CombinedDeduplicator:
    """Lexical (exact, then MinHash) first, semantic for what survives; a text is accepted
    into both only when neither finds a duplicate among the texts accepted before it.

    Texts the lexical pass already rejects against the previously accepted texts are never
    embedded. Within a block, lexical and semantic decisions interleave in order, so a text
    accepted earlier in the same block is seen by the later ones' checks of both kinds.
    """

    def __init__(self, lexical: LexicalDeduplicator, semantic: SemanticDeduplicator | None):
        self.lexical = lexical
        self.semantic = semantic

    def check(self, key: str, text: str) -> Duplicate | None:
        return self.check_many([(key, text)])[0]

    def check_many(self, items: Sequence[tuple[str, str]],
                   embeddings: np.ndarray | None = None) -> list[Duplicate | None]:
        """The duplicate found for each item (in order), or None where it was accepted.

        `embeddings`, if given, are the items' unit-length embeddings (one row each), used
        instead of embedding the texts.
        """
        if self.semantic is None:
            return [self.lexical.check(k, t) for k, t in items]
        if embeddings is not None:
            embeddings = self.semantic._as_rows(embeddings, len(items))
        out: list[Duplicate | None] = []
        size = self.semantic.block_size
        for start in range(0, len(items), size):
            out += self._block(items[start:start + size],
                               None if embeddings is None else embeddings[start:start + size])
        return out

    def accept_all(self, items: Iterable[tuple[str, str]]) -> None:
        items = list(items)
        self.lexical.accept_all(items)
        if self.semantic is not None:
            self.semantic.accept_all(items)

    def _lexical_hit(self, text: str, m) -> bool:
        """Whether `lexical.check` would reject `text` (read-only: nothing is inserted)."""
        lex = self.lexical
        if normalise(text) in lex._exact:
            return True
        return any(m.jaccard(lex._hashes[other]) >= lex.threshold for other in lex._lsh.query(m))

    def _block(self, items: Sequence[tuple[str, str]],
               given: np.ndarray | None) -> list[Duplicate | None]:
        sem = self.semantic
        assert sem is not None
        b = len(items)
        hashes = [minhash(t, self.lexical.num_perm) for _, t in items]
        # Rejected lexically against what was accepted before the block: final (the accepted
        # set only grows), so these are never embedded.
        pre = np.array([self._lexical_hit(t, m) for (_, t), m in zip(items, hashes)], bool)
        live = np.flatnonzero(~pre)
        if len(live) == 0:  # all lexical duplicates: nothing to embed
            return [self.lexical.check(k, t) for k, t in items]
        if given is not None:
            block = given[live]
        else:
            block = sem.embed([items[i][1] for i in live])
        thr = sem.cos_threshold
        best, where = sem.best_accepted(block)
        cand = in_block_candidates(block, thr)
        accepted = np.zeros(len(live), dtype=bool)
        out: list[Duplicate | None] = [None] * b
        pos = 0  # index into live / block
        for i, (key, text) in enumerate(items):
            if pre[i] or self._lexical_hit(text, hashes[i]):
                out[i] = self.lexical.check(key, text)
                assert out[i] is not None
                if not pre[i]:
                    pos += 1
                continue
            prior = np.flatnonzero(cand[pos, :pos] & accepted[:pos])
            if best[pos] >= thr or len(prior):
                cos, dup_of = float(best[pos]), (sem.keys[where[pos]] if where[pos] >= 0 else "")
                if len(prior):
                    sims = block[prior] @ block[pos]
                    if sims.max() > cos:
                        cos, dup_of = float(sims.max()), items[live[prior[sims.argmax()]]][0]
                out[i] = Duplicate(dup_of, similarity(cos), "semantic")
            else:
                inserted = self.lexical.check(key, text)  # accepts it lexically
                assert inserted is None
                accepted[pos] = True
            pos += 1
        sem._add([items[live[p]][0] for p in np.flatnonzero(accepted)], block[accepted])
        return out
