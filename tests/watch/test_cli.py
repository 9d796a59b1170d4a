"""`runner watch` end to end: a real process on a working copy, edited like an operator would, then Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.watch.workcopy import ROOT, SPEC, WAIT, edit, line_of

STARTUP = 90.0  # liveness bound for interpreter start-up and imports on a loaded machine


class Output:
    """Collects a process's output on a thread so the test can wait for a line without blocking forever."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.text = ""
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with self._changed:
                self.text += line
                self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = WAIT) -> int:
        """Offset just past the first match of `pattern`; fails with the output so far if it never comes."""
        with self._changed:
            found = self._changed.wait_for(lambda: re.search(pattern, self.text), timeout)
            assert found, f"{pattern!r} never appeared in:\n{self.text}"
            return found.end()


def test_watch_prints_plans_and_errors_then_exits_0_on_ctrl_c(repo: Path) -> None:
    env = {**os.environ, "COLUMNS": "220", "NO_COLOR": "1", "TERM": "dumb"}
    command = [sys.executable, "-m", "runner.cli.main", "watch", str(repo / "clusters/home"), "--debounce", "0.2"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = Output(proc)
    try:
        out.wait_for(r"plan 1 · .* · start", timeout=STARTUP)
        out.wait_for("create VM 303 talos-worker-01: 4 cores, 16384 MiB")

        edit(repo, "    memory: 16384", "    memory: 24576")
        second = out.wait_for(f"plan 2 · .* · saved {SPEC}")
        out.wait_for(r"24576 MiB")
        assert "24576 MiB" not in out.text[:second]

        line = line_of(repo, "  node: atlas")
        edit(repo, "  node: atlas", " node: atlas")
        out.wait_for("plan 3 ")
        out.wait_for(rf"{re.escape(SPEC)}:{line}:2: invalid YAML")
        out.wait_for("1 problem; still watching")

        proc.send_signal(signal.SIGINT)
        assert proc.wait(WAIT) == 0, out.text
        out.wait_for("stopped watching")
        assert "Traceback" not in out.text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
