"""Fixtures for the end-to-end stories: a fresh lab per test or per module, always torn down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.cli.lab.session import LabSession

from .labkit import EXPECTED_ENDPOINT, Home, describe, start_lab


def bootstrap(session: LabSession) -> dict[str, Any]:
    """Seed the operator's repo, push it and wait for the runner to bring the cluster up to the Flux hand-off."""
    session.seed_clone()
    commit = session.push()
    run = session.wait_for_run(commit, timeout=120)
    assert run["result"] == "success", describe(run)
    assert session.store.get("home").endpoint == EXPECTED_ENDPOINT
    return run


@pytest.fixture
def make_lab(tmp_path: Path) -> Iterator[Callable[..., LabSession]]:
    """Start a clean lab (twins + runner service) in this test's directory; settings overrides as keywords."""
    sessions: list[LabSession] = []

    def make(**overrides: Any) -> LabSession:
        session = start_lab(tmp_path / f"lab{len(sessions)}", **overrides)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.stop()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """A lab whose home cluster has been bootstrapped from a first push; shared by one module's tests."""
    session = start_lab(tmp_path_factory.mktemp("home"))
    try:
        run = bootstrap(session)
        yield session, run
    finally:
        session.stop()
