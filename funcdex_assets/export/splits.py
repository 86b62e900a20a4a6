"""Train/test assignment that is made once per conversation and never changes.

A conversation keeps the split it was first given (read back from the folder's files and the
instance's round history), so a later round only adds: no test row of an earlier round ever
moves into train, which would contaminate an evaluation set.

New conversations are assigned per bundle, in an order that depends on the conversation id
alone (not on the round's seed), so the same rows get the same split in any folder:

1. a conversation that is a near duplicate (`dedup.conversations`: same calls with the same
   arguments, or MinHash-similar text) of one already assigned, in any bundle, follows it
   into that split, so train and test never share a near duplicate;
2. otherwise it goes to test while the bundle holds fewer than `round(rows * test_fraction)`
   test rows (at most rows - 1, so a bundle with two or more rows keeps one for training),
   and to train after that.

Earlier assignments are never revised to meet the fraction: a bundle whose earlier rounds put
more rows in test than its share keeps them there.
"""

from __future__ import annotations

import hashlib
import math
from typing import Mapping, Sequence

from funcdex_assets.dedup.conversations import ConversationIndex, ConversationItem, turns_from_messages

TRAIN, TEST = "train", "test"


def _order_key(conversation_id: str) -> str:
    # Seed-independent on purpose: the split must not change when the round's seed does.
    return hashlib.blake2b(conversation_id.encode("utf-8"), digest_size=8).hexdigest()


def quota_for(rows: int, test_fraction: float) -> int:
    """Test rows wanted for a bundle of `rows` rows: rounded to nearest, never every row."""
    if rows < 2:
        return 0
    return min(math.floor(rows * test_fraction + 0.5), rows - 1)


def assign_splits(rows_by_bundle: Mapping[str, Sequence[dict]], prior: Mapping[str, str],
                  test_fraction: float, duplicate_threshold: float = 0.8) -> dict[str, str]:
    """{conversation_id: "train" | "test"} for every row of `rows_by_bundle` (bundle -> exported
    rows, each with `conversation_id` and `messages`). Ids in `prior` keep their split; the
    rest are assigned as the module docstring says. Deterministic; ValueError on a prior split
    that is neither train nor test."""
    bad = {cid: s for cid, s in prior.items() if s not in (TRAIN, TEST)}
    if bad:
        raise ValueError(f"unknown split value(s) {sorted(set(bad.values()))} for {sorted(bad)[:3]}")
    indexes = {TRAIN: ConversationIndex(duplicate_threshold, 128), TEST: ConversationIndex(duplicate_threshold, 128)}
    out: dict[str, str] = {}
    pending: dict[str, list[dict]] = {}
    for bundle in sorted(rows_by_bundle):
        for row in rows_by_bundle[bundle]:
            cid = row["conversation_id"]
            if cid in out:
                continue
            if cid in prior:
                out[cid] = prior[cid]
                indexes[prior[cid]].seed(ConversationItem(cid, turns_from_messages(row["messages"])))
            else:
                pending.setdefault(bundle, []).append(row)
    for bundle in sorted(pending):
        rows = rows_by_bundle[bundle]
        total = len({r["conversation_id"] for r in rows})
        in_test = sum(1 for r in rows if out.get(r["conversation_id"]) == TEST)
        quota = quota_for(total, test_fraction)
        for row in sorted(pending[bundle], key=lambda r: _order_key(r["conversation_id"])):
            cid = row["conversation_id"]
            if cid in out:  # the same id twice in one bundle
                continue
            item = ConversationItem(cid, turns_from_messages(row["messages"]))
            follows = [s for s in (TEST, TRAIN) if indexes[s].match(item) is not None]
            if follows:
                split = follows[0]
            else:
                split = TEST if in_test < quota else TRAIN
            in_test += split == TEST
            out[cid] = split
            indexes[split].seed(item)
    return out
