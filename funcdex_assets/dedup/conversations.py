"""Near-duplicate conversations, removed before the parsed dataset.

Each conversation is compared with everything accepted before it: the conversations accepted
earlier in `items` and all of `accepted_before` (e.g. what earlier rounds kept). It is a
duplicate of an accepted conversation when either signal fires:

- `same_calls`: the tool-call sequence is identical, names AND argument values, in order
  (compared as the canonical JSON of `[[name, arguments], ...]`, so key order inside the
  arguments does not matter). The calls of a parallel call (`dml.parallel`) are issued at once
  and have no order: the group is one entry, the list of its `[name, arguments]` sorted, so the
  same calls issued at once in another order match, and calls issued one after another do not
  match the same calls issued at once. Only a signature that carries at least one argument value
  counts: a conversation without calls, or whose calls all take no arguments (e.g. a lone
  `GET_CURRENT_USER {}`), says nothing specific through its calls, and many different requests
  share such a sequence. Those are judged on their text alone.
- `near_text`: the MinHash estimate of the Jaccard similarity of the word 3-shingles of the
  user and assistant text is >= `threshold` (an exact copy of the normalised text is caught
  first, with similarity 1.0). Thoughts and tool responses are left out: thoughts are private
  reasoning, tool responses are generated data, and neither is what a reader would call the
  conversation. Words are what `lexical.normalise` keeps (ASCII letters and digits, as for
  scenarios), so a conversation with no such words is never a text duplicate.

`same_calls` is checked first (exact, and the stronger evidence); `duplicate_of` names the kept
conversation the signal matched (the earliest accepted one on a tie), and `similarity` is always
the MinHash text-Jaccard estimate between the two (for `same_calls` it may be low: the calls,
not the wording, made it a duplicate). A duplicate is not accepted, so it is never itself the
`duplicate_of` of a later conversation.

Sub-quadratic: the signature check is a dict lookup and text candidates come from MinHash LSH
buckets (each candidate is then checked against the real threshold). Deterministic: MinHash
uses a fixed seed and candidates are ranked by similarity, then by acceptance order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from datasketch import MinHash, MinHashLSH

from funcdex_assets.dedup.lexical import NUM_PERM, Duplicate, minhash, normalise
from funcdex_assets.dml.model import AssistantTurn, ToolCallTurn, ToolResponseTurn, Turn, UserTurn
from funcdex_assets.dml.parallel import call_groups
from funcdex_assets.hashing import canonical_json

__all__ = ["ConversationIndex", "ConversationItem", "Duplicate", "call_signature", "conversation_text", "dedup_conversations"]

SAME_CALLS = "same_calls"
NEAR_TEXT = "near_text"


@dataclass(frozen=True)
class ConversationItem:
    key: str
    turns: Sequence[Turn]


def call_signature(turns: Sequence[Turn]) -> str | None:
    """Canonical JSON of the calls in order: `[name, arguments]` for a single call, the sorted
    list of its calls' `[name, arguments]` for a parallel call; or None when the calls carry no
    argument value (no calls, or only argument-less calls). Without parallel calls this is
    `[[name, arguments], ...]`, as before parallel calls existed."""
    entries: list[Any] = []
    with_values = False
    for group in call_groups(turns):
        pairs = [[c.name, c.arguments] for c in group.calls]
        with_values = with_values or any(arguments for _, arguments in pairs)
        entries.append(pairs[0] if len(pairs) == 1 else sorted(pairs, key=canonical_json))
    if not with_values:
        return None
    return canonical_json(entries)


def turns_from_messages(messages: Sequence[dict]) -> list[Turn]:
    """The turns dedup compares, read back from exported OpenAI / TRL messages (user and
    assistant text, tool calls with their arguments, which may be a JSON string, and tool
    responses, which keep the calls of one assistant message apart from the next one's)."""
    turns: list[Turn] = []
    for msg in messages:
        role, content = msg.get("role"), msg.get("content")
        if role == "user" and isinstance(content, str):
            turns.append(UserTurn(text=content))
        elif role == "assistant":
            if isinstance(content, str) and content:
                turns.append(AssistantTurn(text=content))
            for call in msg.get("tool_calls") or []:
                function = call.get("function") or {}
                arguments = function.get("arguments")
                if isinstance(arguments, str):
                    try:
                        arguments = json.loads(arguments)
                    except ValueError:
                        arguments = {}
                turns.append(ToolCallTurn(name=str(function.get("name", "")),
                                          arguments=arguments if isinstance(arguments, dict) else {}))
        elif role == "tool":
            turns.append(ToolResponseTurn(content=content))
    return turns


def conversation_text(turns: Sequence[Turn]) -> str:
    """The user and assistant text in order, one turn per line (thoughts and tool data left out)."""
    return "\n".join(t.text for t in turns if isinstance(t, (UserTurn, AssistantTurn)))


class ConversationIndex:
    """What has been accepted so far: call signatures, normalised texts, MinHashes in LSH.

    `check` finds an item's duplicate or accepts it; `match` only looks (e.g. which already
    split conversation a new one repeats); `seed` accepts unconditionally."""

    def __init__(self, threshold: float, num_perm: int):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.num_perm = num_perm
        # LSH only proposes candidates; datasketch cannot band above ~0.95 (as in lexical.py).
        self._lsh = MinHashLSH(threshold=min(threshold, 0.9), num_perm=num_perm)
        self._order: dict[str, int] = {}  # accepted key -> acceptance order
        self._checked: set[str] = set()
        self._signatures: dict[str, str] = {}
        self._texts: dict[str, str] = {}
        self._hashes: dict[str, MinHash] = {}

    def __contains__(self, key: str) -> bool:
        return key in self._order

    def _features(self, turns: Sequence[Turn]) -> tuple[str | None, str, MinHash | None]:
        text = normalise(conversation_text(turns))
        return call_signature(turns), text, (minhash(text, self.num_perm) if text else None)

    def _similarity(self, m: MinHash | None, other: str) -> float:
        o = self._hashes.get(other)
        return round(m.jaccard(o), 4) if m is not None and o is not None else 0.0

    def check(self, item: ConversationItem) -> Duplicate | None:
        """The duplicate found for `item`, or None after accepting it."""
        if item.key in self or item.key in self._checked:
            raise ValueError(f"conversation key {item.key!r} appears twice; keys must be unique")
        self._checked.add(item.key)
        features = self._features(item.turns)
        found = self._match(*features)
        if found is None:
            self._accept(item.key, *features)
        return found

    def match(self, item: ConversationItem) -> Duplicate | None:
        """The accepted conversation `item` repeats, without accepting `item`."""
        return self._match(*self._features(item.turns))

    def _match(self, signature: str | None, text: str, m: MinHash | None) -> Duplicate | None:
        if signature is not None and signature in self._signatures:
            kept = self._signatures[signature]
            return Duplicate(kept, self._similarity(m, kept), SAME_CALLS)
        if m is not None:
            if text in self._texts:
                return Duplicate(self._texts[text], 1.0, NEAR_TEXT)
            best: tuple[float, int, str] | None = None
            for other in self._lsh.query(m):
                sim = round(m.jaccard(self._hashes[other]), 4)
                if sim >= self.threshold:
                    rank = (-sim, self._order[other], other)
                    best = rank if best is None or rank < best else best
            if best is not None:
                return Duplicate(best[2], -best[0], NEAR_TEXT)
        return None

    def _accept(self, key: str, signature: str | None, text: str, m: MinHash | None) -> None:
        self._order[key] = len(self._order)
        if signature is not None:
            self._signatures.setdefault(signature, key)
        if m is not None:
            self._texts.setdefault(text, key)
            self._hashes[key] = m
            self._lsh.insert(key, m)

    def seed(self, item: ConversationItem) -> None:
        """Index a conversation accepted earlier, unconditionally (a repeated key is ignored)."""
        if item.key not in self:
            self._accept(item.key, *self._features(item.turns))


def dedup_conversations(items: Sequence[ConversationItem], *, threshold: float = 0.8,
                        accepted_before: Sequence[ConversationItem] = (),
                        num_perm: int = NUM_PERM) -> list[Duplicate | None]:
    """For each item in order, the `Duplicate` it is (reason `same_calls` or `near_text`), or
    None when it is kept. Items are compared with the items kept before them and with all of
    `accepted_before` (indexed as given, never flagged themselves). Item keys must be unique
    and distinct from the keys of `accepted_before` (ValueError otherwise)."""
    index = ConversationIndex(threshold, num_perm)
    for item in accepted_before:
        index.seed(item)
    return [index.check(item) for item in items]
