"""Fixtures for the service: a lab git repo, the forge twin, and the runner app served by uvicorn."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pygit2
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


def _commits_under(root: Path) -> Callable[[str, str], bool]:
    """The forge holds every commit of the test's git repositories (a pull request's head included, as GitHub
    keeps `refs/pull/N/head` in the base repository)."""

    def exists(_repo: str, sha: str) -> bool:
        for head in root.rglob("HEAD"):
            if (head.parent / "objects").is_dir():
                with contextlib.suppress(ValueError, pygit2.GitError):
                    if isinstance(pygit2.Repository(str(head.parent)).get(sha), pygit2.Commit):
                        return True
        return False

    return exists


@pytest.fixture
def forge_twin(tmp_path: Path) -> Iterator[tuple[ForgeState, str]]:
    state = ForgeState()
    in_git = _commits_under(tmp_path)
    state.commit_exists = lambda repo, sha: state.knows_commit(repo, sha) or in_git(repo, sha)
    state.add_token(FORGE_TOKEN, "runner-bot")
    state.add_repo(REPO)
    server = serve_in_thread(create_forge_app(state))
    yield state, server.url
    server.stop()
