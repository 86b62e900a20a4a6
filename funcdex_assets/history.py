"""What earlier generation rounds accepted, per bundle, so a new round does not repeat it.

A round is a run seed. Each round records its accepted scenarios, conversations (DML) and tool
usage here;
a later round (another seed, e.g. tonight's) deduplicates against every *other* round's
scenarios and samples rarely used tools more. Entries of the round being computed are ignored,
so re-materializing a partition with the same seed reads exactly what it read the first time:
the same inputs, the same outputs, and (on a model backend) zero new calls.

Stored as Parquet files under the Dagster instance's storage directory, next to the assets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import polars as pl

_ITEMS = {"seed": pl.Int64, "key": pl.Utf8, "text": pl.Utf8}
_USAGE = {"seed": pl.Int64, "tool": pl.Utf8, "count": pl.Int64}


class RoundHistory:
    def __init__(self, root: Path):
        self.root = Path(root) / "history"

    def _path(self, kind: str, bundle: str) -> Path:
        return self.root / kind / f"{bundle}.parquet"

    def _read(self, kind: str, bundle: str, schema: dict) -> pl.DataFrame:
        path = self._path(kind, bundle)
        return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=schema)

    def _replace_round(self, kind: str, bundle: str, seed: int, df: pl.DataFrame, schema: dict) -> None:
        """Store this round's rows, replacing what the same round stored before (atomically)."""
        kept = self._read(kind, bundle, schema).filter(pl.col("seed") != seed)
        path = self._path(kind, bundle)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        pl.concat([kept, df.select(list(schema)).cast(schema)]).write_parquet(tmp)
        tmp.replace(path)

    # ---- accepted items (scenarios, conversations) ------------------------------------
    def items_before(self, kind: str, bundles: Iterable[str], seed: int) -> list[tuple[str, str]]:
        """(key, text) of `kind` accepted by other rounds of these bundles, oldest first."""
        out: list[tuple[str, str]] = []
        for bundle in bundles:
            df = self._read(kind, bundle, _ITEMS).filter(pl.col("seed") != seed)
            out.extend(zip(df["key"].to_list(), df["text"].to_list()))
        return out

    def record_items(self, kind: str, bundle: str, seed: int, accepted: Iterable[tuple[str, str]]) -> None:
        rows = [{"seed": seed, "key": k, "text": t} for k, t in accepted]
        self._replace_round(kind, bundle, seed, pl.DataFrame(rows, schema=_ITEMS), _ITEMS)

    def known_bundles(self, kind: str = "scenarios") -> list[str]:
        folder = self.root / kind
        return sorted(p.stem for p in folder.glob("*.parquet")) if folder.exists() else []

    # ---- train/test splits -------------------------------------------------------------
    def splits(self, bundles: Iterable[str]) -> dict[str, str]:
        """conversation_id -> the split it was first given, by any round of these bundles."""
        out: dict[str, str] = {}
        for bundle in bundles:
            df = self._read("splits", bundle, _ITEMS)
            for key, split in zip(df["key"].to_list(), df["text"].to_list()):
                out.setdefault(key, split)
        return out

    def record_splits(self, bundle: str, seed: int, splits: dict[str, str]) -> None:
        """Record the splits of this round's rows that no other round recorded (a split, once
        given, is never changed, so other rounds' entries are only ever read)."""
        other = {k for k, _ in self.items_before("splits", [bundle], seed)}
        self.record_items("splits", bundle, seed, sorted((k, v) for k, v in splits.items() if k not in other))

    # ---- tool usage -------------------------------------------------------------------
    def usage_before(self, bundle: str, seed: int) -> dict[str, int]:
        df = self._read("tool_usage", bundle, _USAGE).filter(pl.col("seed") != seed)
        if df.is_empty():
            return {}
        summed = df.group_by("tool").agg(pl.col("count").sum()).sort("tool")
        return dict(zip(summed["tool"].to_list(), summed["count"].to_list()))

    def record_usage(self, bundle: str, seed: int, counts: dict[str, int]) -> None:
        rows = [{"seed": seed, "tool": tool, "count": n} for tool, n in sorted(counts.items())]
        self._replace_round("tool_usage", bundle, seed, pl.DataFrame(rows, schema=_USAGE), _USAGE)
