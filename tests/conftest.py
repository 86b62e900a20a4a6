"""Shared test fixtures.

`../shared` (beside the repository) is read only through `shared_path`, which skips with a
clear reason when it is absent, so the suite runs on a bare clone too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """Path under ../shared, or skip the calling test when it is not there."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: these tests need the shared/ folder beside the repository")
    return path


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT
