"""A real `runner serve` process over the lab repository: what a crash test kills with SIGKILL and starts again.

The process is the installed `runner serve` command in its own interpreter, configured by RUNNER_* variables as
an operator would. Its run is the read-only inspect run (it reads cluster.yaml at the commit and says so), so
the journal shows exactly which commit each run was handed. Deliveries are signed and shaped by the lab's own
forge code (the git server's post-receive hook), as GitHub sends them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pygit2
from servicekit import SECRET, wait_until

from runner.drivers.workdir import WORK_DIR_ENV
from runner.lab.gitserver import LabGitServer
from runner.lab.gitserver.hook import headers_for, push_payload
from runner.lab.serve import free_port

RUNNER = Path(sys.executable).with_name("runner")  # the console script installed beside this interpreter


@dataclass
class ServeProcess:
    root: Path
    lab_git: LabGitServer
    settings: dict[str, str] = field(default_factory=dict)  # extra RUNNER_* variables
    port: int = field(default_factory=free_port)  # kept across restarts: the forge's webhook URL stays valid
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServeProcess:
        env = {
            **os.environ,
            "RUNNER_REPO_URL": self.lab_git.url,
            "RUNNER_REPO_FULL_NAME": self.lab_git.full_name,
            "RUNNER_WEBHOOK_SECRET": SECRET,
            "RUNNER_DB_PATH": str(self.root / "runner.db"),
            "RUNNER_CACHE_DIR": str(self.root / "cache"),
            "RUNNER_PORT": str(self.port),
            "RUNNER_PUBLIC_URL": self.url,
            "RUNNER_DRIFT_INTERVAL": "0",
            "RUNNER_POLL_INTERVAL": "0",
            "RUNNER_RETRY_BACKOFF": "0.05",
            "RUNNER_RUN_FN": "runner.server.inspect_run:inspect_run",
            WORK_DIR_ENV: str(self.root / "work"),
            **self.settings,
        }
        self.starts += 1
        log = (self.root / f"serve-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen([str(RUNNER), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._ready, 60, "runner serve to answer /readyz")
        return self

    def _ready(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, f"runner serve exited: see {self.root}/serve-*.log"
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """SIGKILL: no lifespan shutdown, no flush, no goodbye; as a crash of the host's service would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    # --- talking to it ---------------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        return httpx.get(f"{self.url}{path}", params=params, timeout=10).json()

    def runs(self, **params: Any) -> list[dict[str, Any]]:
        """Oldest first (the API lists newest first)."""
        runs: list[dict[str, Any]] = self.get("/api/runs", limit=500, **params)["runs"]
        return list(reversed(runs))

    def quiet(self) -> bool:
        """Nothing queued and nothing running: every delivery taken so far has been worked off."""
        queue = self.get("/api/queue")
        return not queue["items"] and all(r["status"] == "finished" for r in self.runs())

    def applied(self, cluster: str) -> list[str]:
        """The commits successfully applied to `cluster`, in the order they were applied."""
        return [r["commit_sha"] for r in self.runs(cluster=cluster, mode="apply", result="success")]

    def deliver(self, push: Push, *, timeout: float = 30) -> httpx.Response:
        """POST one push delivery as GitHub would send it."""
        headers = headers_for("github", push.body, SECRET, push.delivery)
        return httpx.post(f"{self.url}/hooks/github", content=push.body, headers=headers, timeout=timeout)


@dataclass(frozen=True)
class Push:
    """One push to the protected branch as the forge announces it: its delivery id, the commit, the signed body."""

    delivery: str
    commit: str
    body: bytes


def pushes(lab_git: LabGitServer, commits: list[str]) -> list[Push]:
    """One GitHub push delivery per commit of a linear history (each pushed on top of the one before)."""
    repo = pygit2.Repository(lab_git.url)
    config = {"full_name": lab_git.full_name, "clone_url": lab_git.url, "flavor": "github"}
    found = []
    for commit in commits:
        parent = str(repo.get(commit).parents[0].id)
        body = json.dumps(push_payload(repo, parent, commit, f"refs/heads/{lab_git.branch}", config)).encode()
        found.append(Push(str(uuid.uuid4()), commit, body))
    return found
