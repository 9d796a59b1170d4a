"""The one directory where the runner keeps short-lived private files: talosctl's talosconfig and machine
configs, an etcd snapshot being taken or restored.

talosctl reads its credentials and writes and reads snapshots through files, so they touch the disk for the
length of one call. They all live inside one runner-owned 0700 root, under a directory per process that the
process holds an exclusive `flock` on for as long as it lives. The kernel drops the lock when the process
dies, however it dies (kill -9, OOM, power loss), so the next runner to start removes every directory whose
lock nobody holds. Nothing depends on PIDs: in a container the restarted runner is PID 1 again, and a PID
seen from another PID namespace says nothing. Stdlib only: the service sweeps at start-up without loading
any driver.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import secrets
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from runner.core.errors import Permanent

WORK_DIR_ENV = "RUNNER_WORK_DIR"  # where the root lives; default: <system temp>/runner-<uid>

_held: dict[Path, tuple[Path, int]] = {}  # root -> (this process's directory in it, its locked descriptor)
_held_lock = threading.Lock()
_owner = os.getpid()  # a forked child shares the parent's directories and must not remove them at its exit


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
def _locked(path: Path, mode: int) -> Iterator[int]:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, mode)
        yield fd
    finally:
        os.close(fd)


def _own_dir(root: Path) -> Path:
    """This process's locked directory in `root`, made on first use.

    Made while holding a shared lock on the root, which a sweep holds exclusively: a sweep never sees a
    directory in the moment between its creation and its lock.
    """
    with _held_lock:
        if root in _held:
            path, fd = _held[root]
            if path.is_dir():
                return path
            os.close(fd)  # someone removed the whole root under us: start again
        with _locked(root, fcntl.LOCK_SH):
            # The PID in the name is for people reading `ls` and for older runners, whose sweep went by PID;
            # this sweep goes by the lock alone.
            path = root / f"{os.getpid()}-{secrets.token_hex(8)}"
            path.mkdir(mode=0o700)
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)  # not inherited by talosctl or sops (O_CLOEXEC)
            fcntl.flock(fd, fcntl.LOCK_EX)
        _held[root] = (path, fd)
        return path


@contextlib.contextmanager
def private_dir(kind: str) -> Iterator[Path]:
    """A fresh 0700 directory for one call, removed when the call returns (or by a later sweep)."""
    path = _own_dir(work_root()) / f"{kind}-{secrets.token_hex(6)}"
    path.mkdir(mode=0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _dead(entry: Path) -> bool:
    """Whether no live process holds `entry` (anything but a directory, e.g. an older runner's, is dead)."""
    if entry.is_symlink() or not entry.is_dir():
        return True
    try:
        with _locked(entry, fcntl.LOCK_EX | fcntl.LOCK_NB):
            return True
    except BlockingIOError:
        return False
    except FileNotFoundError:
        return False  # removed meanwhile by its owner at exit: nothing left to do


def sweep() -> int:
    """Remove what dead processes left in the root; returns how many of their directories went."""
    root = work_root()
    removed = 0
    with _locked(root, fcntl.LOCK_EX):
        for entry in root.iterdir():
            if not _dead(entry):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
    return removed


@atexit.register
def _release() -> None:
    """A process that ends normally leaves nothing to sweep."""
    if os.getpid() != _owner:
        return
    for path, fd in _held.values():
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)
    _held.clear()
