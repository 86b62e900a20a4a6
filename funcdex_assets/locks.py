"""One `funcdex generate` at a time per Dagster home and per output folder.

Two runs on one instance and folder would race on the round history and the published files.
The lock is an OS file lock (`filelock`), so it is released when its process dies, even on
kill -9; beside it a small JSON file says who holds it, for the message the second run prints.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from filelock import FileLock, Timeout

LOCK_NAME = ".funcdex-run.lock"
HOLDER_NAME = ".funcdex-run.json"


class BusyError(Exception):
    """Another run holds a lock; the message names it and what to do."""


def _holder(folder: Path) -> str:
    try:
        info = json.loads((folder / HOLDER_NAME).read_text())
        return (f"pid {info.get('pid')} on {info.get('host')}, started {info.get('started')}: "
                f"{info.get('command')}")
    except (OSError, ValueError):
        return "another process"


class RunLocks:
    """Hold the run lock of each folder (e.g. the Dagster home and the output folder) for the
    life of a `with` block. `wait`: block until free, calling `on_wait(folder, holder, seconds)`
    every `poll_s`; otherwise raise BusyError at once."""

    def __init__(self, folders: list[Path], wait: bool = False, poll_s: float = 10.0,
                 on_wait: Callable[[Path, str, float], None] = lambda folder, holder, seconds: None):
        # Deduplicated and sorted, so two runs always take the locks in the same order.
        self.folders = sorted({Path(f).resolve() for f in folders})
        self.wait, self.poll_s, self.on_wait = wait, poll_s, on_wait
        self._stack = ExitStack()

    def __enter__(self) -> "RunLocks":
        try:
            for folder in self.folders:
                folder.mkdir(parents=True, exist_ok=True)
                lock = FileLock(str(folder / LOCK_NAME))
                self._acquire(lock, folder)
                self._stack.callback(lock.release)
                info = {"pid": os.getpid(), "host": socket.gethostname(),
                        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        "command": " ".join(["funcdex", *sys.argv[1:]]) if sys.argv else "funcdex"}
                (folder / HOLDER_NAME).write_text(json.dumps(info))
        except BaseException:
            self._stack.close()
            raise
        return self

    def _acquire(self, lock: FileLock, folder: Path) -> None:
        start = time.monotonic()
        while True:
            try:
                lock.acquire(timeout=self.poll_s if self.wait else 0)
                return
            except Timeout:
                holder = _holder(folder)
                if not self.wait:
                    raise BusyError(
                        f"{folder} is in use by another funcdex run ({holder}). Wait for it to finish "
                        "(or pass --wait to queue behind it), or use another --out folder and DAGSTER_HOME."
                    ) from None
                self.on_wait(folder, holder, time.monotonic() - start)

    def __exit__(self, *exc) -> None:
        self._stack.close()
