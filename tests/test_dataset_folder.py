"""The output folder as versioned, transactional dataset (export.folder) and splits given once
(export.splits): plain functions on plain rows, no Dagster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from funcdex_assets.export.folder import (
    BundleUpdate,
    DatasetFolder,
    OutputFolderError,
    check_output_folder,
    read_jsonl,
    verify_folder,
)
from funcdex_assets.export.splits import assign_splits, quota_for

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
         "quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()


def row(bundle: str, i: int, text: str | None = None) -> dict:
    """An exported row whose text differs from every other row's (no near duplicates)."""
    words = " ".join(WORDS[(i * 7 + k * 3 + len(bundle)) % len(WORDS)] + str(i * 31 + k) for k in range(12))
    return {"conversation_id": f"conv_{bundle}_{i:03d}", "bundle": bundle, "toolkits": [bundle],
            "messages": [{"role": "user", "content": text or f"{bundle} request {words}"},
                         {"role": "assistant", "content": f"done with {words}"}],
            "tools": [], "system_prompt": None, "metadata": {}}


def rows(bundle: str, ids) -> list[dict]:
    return [row(bundle, i) for i in ids]


def publish(folder: DatasetFolder, updates: dict[str, list[dict]], seed: int = 1, **kw):
    return folder.publish({b: BundleUpdate(rows=r, seed=seed) for b, r in updates.items()}, test_fraction=0.15,
                          seed=seed, code_version="test", **kw)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file a reader can open through the folder's top-level names, with its bytes."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == "versions" or path.name.startswith(".") or path.is_dir():
            continue
        out[str(rel)] = path.read_bytes()
    return out


# ---- splits ------------------------------------------------------------------------------------

def test_new_rows_are_split_per_bundle_by_quota() -> None:
    splits = assign_splits({"alpha": rows("alpha", range(20)), "beta": rows("beta", range(7)),
                            "gamma": rows("gamma", range(1))}, {}, 0.15)
    count = lambda b, s: sum(1 for k, v in splits.items() if k.startswith(f"conv_{b}_") and v == s)  # noqa: E731
    assert (count("alpha", "test"), count("alpha", "train")) == (3, 17)
    assert (count("beta", "test"), count("beta", "train")) == (1, 6)
    assert (count("gamma", "test"), count("gamma", "train")) == (0, 1)  # a single row always trains
    assert quota_for(5, 0.0) == 0 and quota_for(2, 0.9) == 1


def test_a_split_once_given_never_changes_and_later_rounds_only_add() -> None:
    first = assign_splits({"alpha": rows("alpha", range(10))}, {}, 0.2)
    # A later round adds 30 rows; the first round's test rows stay in test, its train rows in train,
    # even though the quota alone would now pick other rows.
    second = assign_splits({"alpha": rows("alpha", range(40))}, first, 0.2)
    assert {k: second[k] for k in first} == first
    assert sum(v == "test" for v in second.values()) == 8
    # The order is the id's alone: input order and other bundles change nothing.
    shuffled = assign_splits({"beta": rows("beta", range(5)), "alpha": list(reversed(rows("alpha", range(40))))},
                             first, 0.2)
    assert {k: v for k, v in shuffled.items() if "alpha" in k} == second


def test_a_near_duplicate_follows_the_split_of_the_row_it_repeats() -> None:
    base = rows("alpha", range(10))
    splits = assign_splits({"alpha": base}, {}, 0.2)
    test_row = next(r for r in base if splits[r["conversation_id"]] == "test")
    twin = {**test_row, "conversation_id": "conv_beta_twin", "bundle": "beta"}
    later = assign_splits({"alpha": base, "beta": [twin] + rows("beta", range(3))}, splits, 0.0)
    # test_fraction 0 gives beta no test quota, yet the twin goes where its original is.
    assert later["conv_beta_twin"] == "test"
    with pytest.raises(ValueError, match="unknown split"):
        assign_splits({"alpha": base}, {"conv_alpha_000": "validation"}, 0.2)


# ---- the folder --------------------------------------------------------------------------------

def test_versions_hold_every_bundle_and_reuse_the_split(tmp_path: Path) -> None:
    folder = DatasetFolder(tmp_path / "out")
    one = publish(folder, {"gmail": rows("gmail", range(20))})
    two = publish(folder, {"jira": rows("jira", range(10))}, seed=2)
    # Publishing jira alone keeps gmail in the bundle files and in train/test.
    assert set(two.manifest.bundles) == {"gmail", "jira"} and two.manifest.bundles["gmail"].version == one.manifest.version
    train, test = (read_jsonl(tmp_path / "out" / f"{s}.jsonl") for s in ("train", "test"))
    assert len(train) + len(test) == 30 and {r["bundle"] for r in train} == {"gmail", "jira"}
    assert {k: two.splits[k] for k in one.splits} == one.splits
    assert len(read_jsonl(tmp_path / "out" / "gmail" / "conversations.jsonl")) == 20
    assert two.manifest.previous == one.manifest.version
    assert two.manifest.files["train.jsonl"].rows == len(train)
    report = verify_folder(tmp_path / "out")
    assert report.problems == [] and report.version == two.manifest.version
    assert report.files == {"gmail/conversations.jsonl": 20, "jira/conversations.jsonl": 10,
                            "train.jsonl": len(train), "test.jsonl": len(test)}


def test_a_smaller_round_never_deletes_rows_and_says_so(tmp_path: Path) -> None:
    folder = DatasetFolder(tmp_path / "out")
    publish(folder, {"gmail": rows("gmail", range(20))})
    small = publish(folder, {"gmail": rows("gmail", range(5))})
    assert small.manifest.bundles["gmail"].rows == 20
    assert small.manifest.bundles["gmail"].kept_beyond_round == 15
    assert any("kept 15 row(s)" in n and "new --out" in n for n in small.manifest.notes)


def test_verify_finds_an_edited_or_missing_file(tmp_path: Path) -> None:
    folder = DatasetFolder(tmp_path / "out")
    publish(folder, {"gmail": rows("gmail", range(6))})
    train = (tmp_path / "out" / "train.jsonl").resolve()
    lines = train.read_text().splitlines()
    train.write_text("\n".join(lines[:-1] + [lines[-1].replace("request", "REQUEST")]) + "\n")
    assert "sha256 differs" in " ".join(verify_folder(tmp_path / "out").problems)
    train.write_text("\n".join(lines[:-1]) + "\n")
    assert "rows, the manifest says" in " ".join(verify_folder(tmp_path / "out").problems)
    (tmp_path / "out" / "gmail" / "conversations.jsonl").resolve().unlink()
    assert "missing" in " ".join(verify_folder(tmp_path / "out").problems)
    assert verify_folder(tmp_path / "elsewhere") is None


def test_a_folder_of_an_older_release_is_adopted_without_losing_a_row(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "gmail").mkdir(parents=True)
    old = rows("gmail", range(8))
    (out / "gmail" / "conversations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old))
    (out / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old[:6]))
    (out / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old[6:]))
    result = publish(DatasetFolder(out), {"jira": rows("jira", range(4))})
    assert result.manifest.bundles["gmail"].rows == 8
    assert {r["conversation_id"] for r in read_jsonl(out / "test.jsonl")} >= {r["conversation_id"] for r in old[6:]}
    assert (out / "gmail").is_symlink() and (out / "train.jsonl").is_symlink()
    legacy = list((out / "versions").glob("legacy-*"))
    assert len(legacy) == 1 and (legacy[0] / "gmail" / "conversations.jsonl").exists()


def test_old_versions_are_pruned(tmp_path: Path) -> None:
    folder = DatasetFolder(tmp_path / "out", keep_versions=2)
    for seed in range(4):
        publish(folder, {"gmail": rows("gmail", range(seed + 2))}, seed=seed)
    assert len([p for p in (tmp_path / "out" / "versions").iterdir()]) == 2
    assert folder.manifest().bundles["gmail"].rows == 5


@pytest.mark.parametrize("where", ["file", "under_file"])
def test_an_unusable_output_folder_is_refused_naming_the_fix(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    target = blocker if where == "file" else blocker / "sub"
    with pytest.raises(OutputFolderError, match="is a file|is under") as exc:
        check_output_folder(target)
    assert "pass a folder path" in str(exc.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_a_read_only_output_folder_is_refused(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(OutputFolderError, match="cannot write"):
            check_output_folder(ro / "out")
    finally:
        ro.chmod(0o700)


def test_a_read_only_filesystem_is_refused(tmp_path: Path) -> None:
    # /proc is read-only for everyone, root included.
    with pytest.raises(OutputFolderError, match="cannot write|is a file"):
        check_output_folder(Path("/proc/funcdex-out"))


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    import funcdex_assets.export.folder as folder_module
    from tests.test_dataset_folder import rows

    # kill -9 ourselves at the N-th step of the publish (N = 0: at a random moment the parent picks).
    kill_at, calls = int(sys.argv[2]), [0]

    def hook(owner, name):
        real = getattr(owner, name)

        def wrapped(*args, **kwargs):
            calls[0] += 1
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        return wrapped

    for name in ("write_jsonl", "_link_or_copy", "_write_atomic", "_fsync_tree"):
        setattr(folder_module, name, hook(folder_module, name))
    for name in ("_switch", "_adopt_legacy", "_prune", "_remove_partials"):
        setattr(folder_module.DatasetFolder, name, hook(folder_module.DatasetFolder, name))
    updates = {"gmail": folder_module.BundleUpdate(rows("gmail", range(300)))}
    print("ready", flush=True)
    folder_module.DatasetFolder(Path(sys.argv[1])).publish(updates, test_fraction=0.15, seed=2, code_version="t")
""")


def _publish_killed(out: Path, kill_at: int, delay_s: float = 0.0) -> None:
    repo = str(Path(__file__).resolve().parents[1])
    proc = subprocess.Popen([sys.executable, "-c", KILLER, str(out), str(kill_at), repo], cwd=repo,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    if kill_at == 0:
        try:
            proc.wait(timeout=delay_s)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize("kill_at", range(1, 12))
def test_kill_9_at_each_step_of_a_publish_leaves_the_previous_version_byte_identical(tmp_path: Path,
                                                                                    kill_at: int) -> None:
    """A publish killed at its N-th step: every top-level file reads exactly as before, or the
    publish had finished whole; the next publish cleans up after it."""
    out = tmp_path / "out"
    publish(DatasetFolder(out), {"gmail": rows("gmail", range(12)), "jira": rows("jira", range(5))})
    before = snapshot(out)
    _publish_killed(out, kill_at)
    _assert_old_or_whole(out, before)


@pytest.mark.parametrize("delay_s", [0.01, 0.05, 0.1, 0.2, 0.4])
def test_kill_9_at_a_random_moment_of_a_publish(tmp_path: Path, delay_s: float) -> None:
    out = tmp_path / "out"
    publish(DatasetFolder(out), {"gmail": rows("gmail", range(12))})
    before = snapshot(out)
    _publish_killed(out, 0, delay_s)
    _assert_old_or_whole(out, before)


def _assert_old_or_whole(out: Path, before: dict[str, bytes]) -> None:
    manifest = DatasetFolder(out).manifest()
    if manifest.bundles["gmail"].rows == 12:
        assert snapshot(out) == before
    else:  # the kill came after `latest` moved: a whole new version
        assert manifest.bundles["gmail"].rows == 300 and verify_folder(out).problems == []
    publish(DatasetFolder(out), {"jira": rows("jira", range(6))}, seed=3)
    assert not list((out / "versions").glob(".*.partial"))
    assert verify_folder(out).problems == []
