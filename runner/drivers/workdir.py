"""The one directory where the runner keeps short-lived private files (talosctl's talosconfig, machine configs).

talosctl reads its credentials and configs from files, so they touch the disk for the length of one call.
Every such call gets its own directory inside one runner-owned 0700 root, named after the process that made
it; a process killed mid-call (kill -9, OOM, power loss) leaves its directory behind, and the next runner to
start removes the directories of processes that no longer exist. Stdlib only: the service sweeps at start-up
without loading any driver.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from runner.core.errors import Permanent

WORK_DIR_ENV = "RUNNER_WORK_DIR"  # where the root lives; default: <system temp>/runner-<uid>


def work_root() -> Path:
    """The private root, created 0700 if missing; refused if anyone else could reach into it."""
    configured = os.environ.get(WORK_DIR_ENV)
    root = Path(configured) if configured else Path(tempfile.gettempdir()) / f"runner-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        root.mkdir(mode=0o700, parents=bool(configured))
    info = root.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise Permanent(f"{root}: the runner's private work directory must be a 0700 directory it owns")
    return root


@contextlib.contextmanager
def private_dir(kind: str) -> Iterator[Path]:
    """A fresh 0700 directory for one call, removed when the call returns (or by a later sweep)."""
    path = work_root() / f"{os.getpid()}-{kind}-{secrets.token_hex(6)}"
    path.mkdir(mode=0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, someone else's
    return True


def sweep() -> int:
    """Remove what dead processes left in the root; returns how many directories went."""
    root = work_root()
    removed = 0
    for entry in root.iterdir():
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed
