"""Stable content-hash ids.

Every row id in the pipeline is a hash of the content that produced it plus its parent's id,
so the same inputs give the same ids on every machine and every run, and a row's lineage
(combo -> scenario -> persona -> outline -> conversation) is visible from ids alone.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and fixed separators: the byte form that hashing sees."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_id(prefix: str, *parts: Any, length: int = 16) -> str:
    """`prefix_<hex>` id from the canonical JSON of `parts`."""
    digest = hashlib.blake2b(canonical_json(list(parts)).encode("utf-8"), digest_size=16)
    return f"{prefix}_{digest.hexdigest()[:length]}"


def derive_seed(*parts: Any) -> int:
    """A 63-bit seed derived from `parts`; independent of PYTHONHASHSEED."""
    digest = hashlib.blake2b(canonical_json(list(parts)).encode("utf-8"), digest_size=8)
    return int.from_bytes(digest.digest(), "big") >> 1
