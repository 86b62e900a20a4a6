"""Which code produced a dataset: the package version and, in a git checkout, the commit."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from funcdex_assets import __version__

_REPO = Path(__file__).resolve().parents[1]


@functools.cache
def code_version() -> str:
    """"funcdex-assets <version>" plus " (git <short sha>[, modified])" in a git checkout."""
    text = f"funcdex-assets {__version__}"
    try:
        sha = subprocess.run(["git", "-C", str(_REPO), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(_REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return text  # an installed wheel, or no git: the version alone
    return f"{text} (git {sha}{', modified' if dirty else ''})"
