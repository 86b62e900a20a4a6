"""The output folder as a versioned dataset: every publish is a transaction.

Layout (`out` is the folder users pass as `--out`):

    out/versions/<version>/<bundle>/conversations.jsonl   rows of one bundle
    out/versions/<version>/train.jsonl, test.jsonl        every bundle of the folder, split
    out/versions/<version>/manifest.json                  rows, sha256, seed, code, model, runs
    out/latest -> versions/<version>                      switched by one atomic rename
    out/train.jsonl, test.jsonl, manifest.json, <bundle>  links through `latest`

A publish writes a complete new version under `versions/.<version>.partial`, renames it into
place and only then moves `latest`; a failure, Ctrl-C or kill -9 at any point leaves the
previous version, and so every path a reader opens, byte-identical. A version always holds
every bundle the folder held before (unchanged bundles are hard links to the previous files)
plus the bundles being published, whose rows are the union of the new rows and the rows the
folder already had (a smaller target never silently deletes rows; the manifest's notes say
what was kept). Splits are assigned once (`export.splits`). Publishes to one folder are
serialized by a lock file; a folder written by an older release (plain files, no `latest`) is
read as the previous version and moved under `versions/` by the first publish.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping

from filelock import FileLock
from pydantic import BaseModel, Field

from funcdex_assets.export.jsonl import write_jsonl
from funcdex_assets.export.splits import TEST, TRAIN, assign_splits

MANIFEST = "manifest.json"
SPLIT_FILES = ("train.jsonl", "test.jsonl")
CONVERSATIONS = "conversations.jsonl"
RESERVED = {"versions", "latest", MANIFEST, *SPLIT_FILES}
FORMAT = 1


class OutputFolderError(Exception):
    """The output folder cannot hold a dataset; the message names the path and the fix."""


class FileEntry(BaseModel):
    rows: int
    bytes: int
    sha256: str


class BundleEntry(BaseModel):
    rows: int
    train: int
    test: int
    version: str = Field(description="The version that last wrote rows of this bundle.")
    seed: int | None = None
    model: str | None = None
    run_id: str | None = None
    kept_beyond_round: int = Field(default=0, description="Rows the folder had that the round's rows did not hold.")


class Manifest(BaseModel):
    """What one version of the folder holds; `funcdex report` checks the files against it."""

    format: int = FORMAT
    version: str
    previous: str | None = None
    created_at: str
    code_version: str
    seed: int | None = None
    model: str | None = None
    test_fraction: float
    dagster_run_ids: list[str] = Field(default_factory=list)
    bundles: dict[str, BundleEntry]
    files: dict[str, FileEntry]
    notes: list[str] = Field(default_factory=list)

    def rows(self, split: str | None = None) -> int:
        return sum(b.rows if split is None else getattr(b, split) for b in self.bundles.values())


@dataclass
class BundleUpdate:
    """New rows of one bundle (exported JSON objects with `conversation_id` and `messages`)."""

    rows: list[dict]
    seed: int | None = None
    model: str | None = None
    run_id: str | None = None


@dataclass
class PublishResult:
    manifest: Manifest
    path: Path
    splits: dict[str, str] = field(default_factory=dict)  # conversation_id -> split, every row


def check_output_folder(out: Path) -> Path:
    """Create `out` if needed and prove a file can be written and renamed in it, before any
    work. Raises OutputFolderError naming the path and the fix (a file in the way, a read-only
    or missing parent, no permission)."""
    out = Path(out).expanduser().absolute()
    for parent in [out, *out.parents]:
        if parent.exists() and not parent.is_dir():
            where = "is" if parent == out else f"is under {parent}, which is"
            raise OutputFolderError(f"--out {out} {where} a file, not a folder; pass a folder path "
                                    "(it is created if missing)")
        if parent.exists():
            break
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".funcdex-write-check-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.replace(out / f".funcdex-write-check-{os.getpid()}.done")
        (out / f".funcdex-write-check-{os.getpid()}.done").unlink()
    except OSError as exc:
        raise OutputFolderError(f"cannot write to --out {out}: {exc.strerror or exc}; pick a writable folder "
                                "(check its permissions, free space and that the filesystem is not read-only)") from None
    if (out / "latest").exists() and not (out / "latest").is_symlink():
        raise OutputFolderError(f"{out / 'latest'} is not the link this tool makes; move it away or pick another --out")
    return out.resolve()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _file_entry(path: Path, rows: int) -> FileEntry:
    return FileEntry(rows=rows, bytes=path.stat().st_size, sha256=sha256_file(path))


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


class DatasetFolder:
    """One output folder; see the module docstring for its layout and guarantees."""

    def __init__(self, root: Path, keep_versions: int = 10):
        if keep_versions < 1:
            raise ValueError("keep_versions must be >= 1")
        self.root = Path(root)
        self.keep_versions = keep_versions

    # ---- reading -------------------------------------------------------------------------
    @property
    def versions_dir(self) -> Path:
        return self.root / "versions"

    def current_dir(self) -> Path | None:
        """The folder `latest` points at, or None when nothing was published here."""
        link = self.root / "latest"
        if link.is_symlink() and link.resolve().is_dir():
            return link.resolve()
        return None

    def manifest(self) -> Manifest | None:
        current = self.current_dir()
        if current is None or not (current / MANIFEST).exists():
            return None
        return Manifest.model_validate_json((current / MANIFEST).read_text(encoding="utf-8"))

    def _legacy_bundles(self) -> dict[str, Path]:
        """Bundle files of a folder written before versions existed (plain folders)."""
        return {p.parent.name: p for p in sorted(self.root.glob(f"*/{CONVERSATIONS}"))
                if not p.parent.is_symlink() and p.parent.name not in RESERVED}

    def _previous(self) -> tuple[Manifest | None, dict[str, Path], dict[str, str]]:
        """(manifest or None, bundle -> its current file, conversation_id -> split)."""
        manifest, current = self.manifest(), self.current_dir()
        if current is not None:
            files = {b: current / b / CONVERSATIONS for b in (manifest.bundles if manifest else {})}
            split_dir = current
        else:
            files, split_dir = self._legacy_bundles(), self.root
        splits: dict[str, str] = {}
        for split in (TRAIN, TEST):
            path = split_dir / f"{split}.jsonl"
            if path.is_file():
                for row in read_jsonl(path):
                    splits.setdefault(row["conversation_id"], split)
        return manifest, files, splits

    def bundle_rows(self, bundle: str) -> list[dict]:
        """The rows the folder holds for `bundle` now (empty when none)."""
        _, files, _ = self._previous()
        return read_jsonl(files[bundle]) if bundle in files and files[bundle].exists() else []

    # ---- writing -------------------------------------------------------------------------
    def lock(self) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / ".funcdex-publish.lock"))

    def publish(self, updates: Mapping[str, BundleUpdate], *, test_fraction: float, seed: int | None,
                code_version: str, model: str | None = None, run_ids: Iterable[str] = (),
                prior_splits: Mapping[str, str] | None = None, duplicate_threshold: float = 0.8) -> PublishResult:
        """Write a new version holding every bundle of the folder, `updates` merged in, and
        switch `latest` to it. `run_ids`: the Dagster runs behind it, the publishing run last. `prior_splits` (conversation_id -> split) adds assignments known
        elsewhere (the instance's history); the folder's own files win where both know an id."""
        bad = sorted(set(updates) & RESERVED)
        if bad:
            raise OutputFolderError(f"bundle name(s) {bad} clash with the folder layout ({sorted(RESERVED)}); "
                                    "rename the bundle in bundles.yaml")
        with self.lock():
            return self._publish(updates, test_fraction, seed, code_version, model, list(run_ids),
                                 dict(prior_splits or {}), duplicate_threshold)

    def _publish(self, updates: Mapping[str, BundleUpdate], test_fraction: float, seed: int | None,
                 code_version: str, model: str | None, run_ids: list[str], prior_splits: dict[str, str],
                 duplicate_threshold: float) -> PublishResult:
        previous, files, folder_splits = self._previous()
        self._remove_partials()
        rows: dict[str, list[dict]] = {}
        notes: list[str] = []
        kept_beyond: dict[str, int] = {}
        for bundle in sorted(set(files) | set(updates)):
            old = read_jsonl(files[bundle]) if bundle in files and files[bundle].exists() else []
            if bundle not in updates:
                rows[bundle] = old
                continue
            new = updates[bundle].rows
            new_ids = {r["conversation_id"] for r in new}
            extra = [r for r in old if r["conversation_id"] not in new_ids]
            rows[bundle] = sorted(new + extra, key=lambda r: r["conversation_id"])
            kept_beyond[bundle] = len(extra)
            if extra:
                notes.append(f"{bundle}: kept {len(extra)} row(s) earlier versions held that this round did not "
                             f"produce ({len(new)} produced); to keep only this round's rows, write to a new "
                             "--out folder")
        splits = assign_splits(rows, {**prior_splits, **folder_splits}, test_fraction, duplicate_threshold)

        # Named for the publishing run (the last id given): versions sort by time, runs find theirs.
        name = f"{_stamp()}-{(run_ids[-1] if run_ids else 'local')[:8]}"
        partial = self.versions_dir / f".{name}.partial"
        partial.mkdir(parents=True)
        bundles: dict[str, BundleEntry] = {}
        file_entries: dict[str, FileEntry] = {}
        for bundle, bundle_rows in rows.items():
            target = partial / bundle / CONVERSATIONS
            target.parent.mkdir(parents=True)
            if bundle in updates:
                write_jsonl(target, bundle_rows)
                u = updates[bundle]
                entry = dict(version=name, seed=u.seed, model=u.model, run_id=u.run_id,
                             kept_beyond_round=kept_beyond.get(bundle, 0))
            else:
                _link_or_copy(files[bundle], target)
                old = previous.bundles[bundle] if previous and bundle in previous.bundles else None
                entry = (old.model_dump(include={"version", "seed", "model", "run_id", "kept_beyond_round"})
                         if old else dict(version=previous.version if previous else "legacy"))
            n_test = sum(1 for r in bundle_rows if splits[r["conversation_id"]] == TEST)
            bundles[bundle] = BundleEntry(rows=len(bundle_rows), train=len(bundle_rows) - n_test, test=n_test, **entry)
            file_entries[f"{bundle}/{CONVERSATIONS}"] = _file_entry(target, len(bundle_rows))
        for split in (TRAIN, TEST):
            part = [r for b in sorted(rows) for r in rows[b] if splits[r["conversation_id"]] == split]
            path = partial / f"{split}.jsonl"
            n = write_jsonl(path, part)
            file_entries[f"{split}.jsonl"] = _file_entry(path, n)
        manifest = Manifest(version=name, previous=previous.version if previous else None,
                            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            code_version=code_version, seed=seed, model=model, test_fraction=test_fraction,
                            dagster_run_ids=run_ids, bundles=bundles, files=file_entries, notes=notes)
        _write_atomic(partial / MANIFEST, manifest.model_dump_json(indent=1).encode("utf-8"))
        _fsync_tree(partial)
        final = self.versions_dir / name
        partial.rename(final)
        self._switch(final)
        self._prune(keep=final)
        return PublishResult(manifest=manifest, path=final, splits=splits)

    def _switch(self, final: Path) -> None:
        """Point `latest` (and the top-level links) at `final`; `latest` moves in one rename."""
        self._adopt_legacy()
        tmp = self.root / f".latest.{os.getpid()}.tmp"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(Path("versions") / final.name, target_is_directory=True)
        os.replace(tmp, self.root / "latest")
        for name in (*SPLIT_FILES, MANIFEST, *[p.name for p in final.iterdir() if p.is_dir()]):
            link = self.root / name
            if not link.is_symlink() and not link.exists():
                link.symlink_to(Path("latest") / name, target_is_directory=(final / name).is_dir())

    def _adopt_legacy(self) -> None:
        """Move the plain files of an older release's folder under versions/ (their rows were
        read into the new version), so the top-level names can become links."""
        plain = [self.root / n for n in (*SPLIT_FILES, MANIFEST) if (self.root / n).is_file()
                 and not (self.root / n).is_symlink()]
        plain += [p.parent for p in self._legacy_bundles().values()]
        if not plain:
            return
        keep = self.versions_dir / f"legacy-{_stamp()}"
        keep.mkdir(parents=True)
        for path in plain:
            path.rename(keep / path.name)

    def _remove_partials(self) -> None:
        # Under the publish lock no other publish is running: a partial is a crashed one's.
        if self.versions_dir.exists():
            for stale in self.versions_dir.glob(".*.partial"):
                shutil.rmtree(stale, ignore_errors=True)

    def _prune(self, keep: Path) -> None:
        versions = sorted(p for p in self.versions_dir.iterdir()
                          if p.is_dir() and not p.name.startswith((".", "legacy-")))
        for old in versions[:-self.keep_versions]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)


def _link_or_copy(src: Path, dst: Path) -> None:
    # Versions share unchanged files: nothing is ever modified in place, so a hard link is safe.
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _fsync_tree(root: Path) -> None:
    """Flush the new version's files before it becomes visible (a power cut after the rename
    must not expose empty files)."""
    for path in root.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


@dataclass
class Verification:
    """What `verify_folder` found: the version read, the files checked, what disagreed."""

    version: str | None
    files: dict[str, int] = field(default_factory=dict)  # relative path -> rows
    problems: list[str] = field(default_factory=list)


def verify_folder(root: Path) -> Verification | None:
    """Check every file the current manifest lists: present, same rows, same sha256. None
    when the folder has no manifest (not written by a publish)."""
    folder = DatasetFolder(root)
    current = folder.current_dir()
    if current is None:
        return None
    if not (current / MANIFEST).exists():
        return Verification(version=current.name, problems=[f"{current / MANIFEST} is missing"])
    try:
        manifest = Manifest.model_validate_json((current / MANIFEST).read_text(encoding="utf-8"))
    except ValueError as exc:
        return Verification(version=current.name, problems=[f"{current / MANIFEST} is not a valid manifest: {exc}"])
    out = Verification(version=manifest.version)
    for rel, entry in manifest.files.items():
        path = current / rel
        if not path.is_file():
            out.problems.append(f"{rel}: listed in the manifest but missing")
            continue
        rows = sum(1 for line in path.open("rb") if line.strip())
        out.files[rel] = rows
        if rows != entry.rows:
            out.problems.append(f"{rel}: {rows} rows, the manifest says {entry.rows}")
        elif sha256_file(path) != entry.sha256:
            out.problems.append(f"{rel}: sha256 differs from the manifest (the file was changed after publishing)")
    return out


def wait_for_lock(lock: FileLock, on_wait, poll_s: float = 5.0) -> None:
    """Acquire `lock`, calling `on_wait(seconds)` while another process holds it."""
    start = time.monotonic()
    while True:
        try:
            lock.acquire(timeout=poll_s)
            return
        except TimeoutError:
            on_wait(time.monotonic() - start)
