"""Lexical near-duplicate detection: exact match on normalised text, then MinHash/LSH.

MinHash over word shingles catches copies with small edits that embeddings can score oddly;
LSH keeps it sub-quadratic (each text is compared only with its bucket mates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from datasketch import MinHash, MinHashLSH

_WORD = re.compile(r"[a-z0-9]+")
NUM_PERM = 128


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def shingles(text: str, k: int = 3) -> set[str]:
    words = normalise(text).split()
    if len(words) < k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


@lru_cache(maxsize=8)
def _permutations(num_perm: int):
    # datasketch draws the permutations anew for every MinHash; drawing them once per num_perm
    # makes hashing about three times faster (same seed, same values).
    template = MinHash(num_perm=num_perm, seed=1)
    return template.permutations, template.scheme


def minhash(text: str, num_perm: int = NUM_PERM) -> MinHash:
    permutations, scheme = _permutations(num_perm)
    m = MinHash(num_perm=num_perm, seed=1, permutations=permutations, scheme=scheme)
    m.update_batch([s.encode("utf-8") for s in sorted(shingles(text))])
    return m


@dataclass(frozen=True)
class Duplicate:
    duplicate_of: str
    similarity: float
    reason: str  # exact | near


class LexicalDeduplicator:
    """Accepts texts one by one; each is checked against everything accepted before it."""

    def __init__(self, threshold: float = 0.85, num_perm: int = NUM_PERM):
        self.threshold = threshold
        self.num_perm = num_perm
        # LSH only proposes candidates; datasketch cannot band above ~0.95, and every candidate
        # is checked against the real threshold below anyway.
        self._lsh = MinHashLSH(threshold=min(threshold, 0.9), num_perm=num_perm)
        self._exact: dict[str, str] = {}
        self._hashes: dict[str, MinHash] = {}

    def check(self, key: str, text: str) -> Duplicate | None:
        """The duplicate found for `text`, or None after accepting it under `key`."""
        norm = normalise(text)
        if norm in self._exact:
            return Duplicate(self._exact[norm], 1.0, "exact")
        m = minhash(text, self.num_perm)
        best: Duplicate | None = None
        for other in sorted(self._lsh.query(m)):
            sim = m.jaccard(self._hashes[other])
            if sim >= self.threshold and (best is None or sim > best.similarity):
                best = Duplicate(other, round(sim, 4), "near")
        if best is not None:
            return best
        self._exact[norm] = key
        self._hashes[key] = m
        self._lsh.insert(key, m)
        return None

    def accept_all(self, items: Iterable[tuple[str, str]]) -> None:
        """Seed with texts already accepted (earlier materializations)."""
        for key, text in items:
            self.check(key, text)
