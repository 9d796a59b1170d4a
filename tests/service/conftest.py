"""Fixtures for the service: a lab git repo, the forge twin, and the runner app served by uvicorn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from servicekit import FORGE_TOKEN, HERE, REPO, SECRET, Runner

from runner.lab.forge import ForgeState, create_forge_app
from runner.lab.gitserver import LabGitServer
from runner.lab.serve import serve_in_thread
from runner.server import create_app
from tests.app_settings import settings_under


@pytest.fixture
def lab_git(tmp_path: Path) -> LabGitServer:
    server = LabGitServer(tmp_path / "git", full_name=REPO).create()
    server.seed(HERE / "data" / "repo")
    return server


@pytest.fixture
def start_runner(tmp_path: Path, lab_git: LabGitServer) -> Iterator[Callable[..., Runner]]:
    """Start the runner app (real uvicorn) against the lab repo; call again for a 'restarted' instance."""
    started: list[Runner] = []

    def start(run_fn: Any, **overrides: Any) -> Runner:
        forge = overrides.pop("forge", None)
        values: dict[str, Any] = {
            "repo_url": lab_git.url,
            "repo_full_name": REPO,
            "webhook_secret": SECRET,
            "retry_backoff": 0.05,
            "public_url": "http://runner.test",
            "settle_seconds": 0,
        }
        settings = settings_under(tmp_path, **{**values, **overrides})  # a test may override any of these
        app = create_app(settings, run_fn, forge=forge)
        server = serve_in_thread(app)
        runner = Runner(server.url, app.state.service, server, httpx.Client(base_url=server.url, timeout=10))
        started.append(runner)
        return runner

    yield start
    for runner in reversed(started):
        runner.stop()


@pytest.fixture
def forge_twin() -> Iterator[tuple[ForgeState, str]]:
    state = ForgeState()
    state.add_token(FORGE_TOKEN, "runner-bot")
    state.add_repo(REPO)
    server = serve_in_thread(create_forge_app(state))
    yield state, server.url
    server.stop()
