"""No plaintext credential outlives a crash: talosctl's files live in one private root that start-up sweeps.

A real process is killed with SIGKILL while talosctl (here a stand-in that only waits) holds a talosconfig
on disk; the file is still there, as a crash leaves it. Starting the runner service again removes it, and
leaves alone the directory of a process that is still alive (it holds a lock on it), even one that has
the PID a dead runner had.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from servicekit import Recorder, wait_until

from runner.drivers.workdir import WORK_DIR_ENV

MARKER = "-----BEGIN ED25519 PRIVATE KEY-----\nnot-a-real-key-but-a-marker\n-----END ED25519 PRIVATE KEY-----\n"
MID_CALL = """
import sys
from runner.core.secret import Redactor, Secret
from runner.drivers.talos.process import run_talosctl
run_talosctl(sys.argv[1], ["--talosconfig", "{workdir}/talosconfig", "version"],
             files={"talosconfig": Secret(sys.argv[2])}, timeout=120, redact=Redactor(), what="talosctl version")
"""


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def start_mid_call(root: Path, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """A real process in the middle of a talosctl call: returns it and the talosconfig it wrote."""
    talosctl = tmp_path / "talosctl-that-waits"
    talosctl.write_text("#!/bin/sh\nsleep 120\n")
    talosctl.chmod(0o755)
    env = {**os.environ, WORK_DIR_ENV: str(root)}
    proc = subprocess.Popen([sys.executable, "-c", MID_CALL, str(talosctl), MARKER], env=env, start_new_session=True)
    found = wait_until(lambda: [p for p in files_under(root) if p.name == "talosconfig"], 30, "the talosconfig")
    return proc, found[0]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "work"
    monkeypatch.setenv(WORK_DIR_ENV, str(path))
    return path


def test_kill_9_mid_call_then_restart_leaves_no_credential_file(root, tmp_path, start_runner) -> None:
    proc, talosconfig = start_mid_call(root, tmp_path)
    call_dir, process_dir = talosconfig.parent, talosconfig.parent.parent  # <root>/<process>/talos-<random>/
    assert process_dir.parent == root and call_dir.name.startswith("talos-")
    modes = [d.stat().st_mode & 0o777 for d in (root, process_dir, call_dir)]
    assert modes == [0o700, 0o700, 0o700]
    assert talosconfig.stat().st_mode & 0o777 == 0o600
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its talosctl, as a crash of the host's service would
    proc.wait(10)
    assert files_under(root) == [talosconfig]  # what the crash left: the credential, in plaintext
    assert MARKER in talosconfig.read_text()

    start_runner(Recorder())  # the restart
    assert files_under(root) == []
    assert list(root.iterdir()) == []


def test_start_up_keeps_the_files_of_a_live_process(root, tmp_path, start_runner) -> None:
    proc, talosconfig = start_mid_call(root, tmp_path)
    try:
        start_runner(Recorder())
        assert files_under(root) == [talosconfig]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@pytest.mark.parametrize("pid", [1, os.getpid()], ids=["pid-1", "a-live-pid"])
def test_start_up_removes_a_dead_runners_files_named_after_a_pid_that_lives(root, start_runner, pid) -> None:
    """What an older runner left, named `<pid>-<kind>-<random>`; that PID now belongs to someone else (in a
    container, to the restarted runner itself), so only a lock can say the directory is still in use."""
    root.mkdir(mode=0o700)
    left = root / f"{pid}-talos-0123456789ab"
    left.mkdir(mode=0o700)
    (left / "talosconfig").write_text(MARKER)
    start_runner(Recorder())
    assert files_under(root) == []
