"""Fixtures for the service: a lab git repo, the forge twin, and the runner app served by uvicorn."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pygit2
import pytest
from servicekit import FORGE_TOKEN, HERE, REPO, SECRET, Runner

from runner.lab.forge import ForgeState, create_forge_app
from runner.lab.gitserver import LabGitServer
from runner.lab.serve import serve_in_thread
from runner.server import create_app
from tests.app_settings import settings_under
from tests.pg import Postgres, throwaway_postgres

PG_LEASE_SECONDS = 3.0  # a replica that stopped renewing is replaced this soon (SQLite: at the next start)


@pytest.fixture
def lab_git(tmp_path: Path) -> LabGitServer:
    server = LabGitServer(tmp_path / "git", full_name=REPO).create()
    server.seed(HERE / "data" / "repo")
    return server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One throwaway PostgreSQL per test session (per xdist worker); each test gets its own database in it."""
    with throwaway_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The store the service tests run against: SQLite (None: the default file) and PostgreSQL."""
    if request.param == "sqlite":
        yield None
        return
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip(f"about SQLite itself: {request.node.get_closest_marker('sqlite_only').args[0]}")
    server = request.getfixturevalue("postgres")
    url = server.new_database()
    yield url
    server.drop_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], str]]:
    """Makes an empty store on each call (for tests that open the queue or journal themselves)."""
    if request.param == "sqlite":
        yield lambda: f"sqlite:///{tmp_path_factory.mktemp('store') / 'runner.db'}"
        return
    server = request.getfixturevalue("postgres")
    url = server.new_database()

    def emptied() -> str:  # one database, emptied: a CREATE DATABASE per Hypothesis example is slow
        with psycopg.connect(url, autocommit=True) as conn:
            if conn.execute("SELECT to_regclass('queue') AS t").fetchone()[0] is not None:
                conn.execute("TRUNCATE queue, runs, steps, logs, leases, outbox, deliveries, kv")
        return str(url)

    yield emptied
    server.drop_database(url)


@pytest.fixture
def start_runner(tmp_path: Path, lab_git: LabGitServer, database_url: str | None) -> Iterator[Callable[..., Runner]]:
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
            "database_url": database_url,
            "lease_seconds": PG_LEASE_SECONDS if database_url else 30.0,
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
