"""Benchmark: resident memory of an idle runner server (target < 80 MB).

Starts `python -m runner.server` in a subprocess (the real engine run function, no timers), waits until
/readyz answers and the process settles, then reads VmRSS from /proc/<pid>/status.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TARGET_MB = 80.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as tmp:
        port = free_port()
        env = {
            **os.environ,
            "RUNNER_REPO_URL": str(Path(tmp) / "repo.git"),
            "RUNNER_WEBHOOK_SECRET": "bench-webhook-secret-of-32-chars",
            "RUNNER_DB_PATH": str(Path(tmp) / "runner.db"),
            "RUNNER_CACHE_DIR": str(Path(tmp) / "cache"),
            "RUNNER_PORT": str(port),
            "RUNNER_DRIFT_INTERVAL": "0",
            "RUNNER_POLL_INTERVAL": "0",
        }
        cmd = [sys.executable, "-m", "runner.server"]  # the real service: the engine's run function
        proc = subprocess.Popen(cmd, env=env)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    print("server did not become ready", file=sys.stderr)
                    return 2
                time.sleep(0.1)
            for _ in range(20):  # a little traffic, then let it settle
                httpx.get(f"http://127.0.0.1:{port}/metrics")
            time.sleep(2)
            rss = rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"idle RSS: {rss:.1f} MB (target < {TARGET_MB:.0f} MB) ratio {rss / TARGET_MB:.2f}")
    return 0 if rss < TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
