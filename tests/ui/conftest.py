"""Fixtures of the UI tests: the real app over a populated journal (TestClient), and a live lab session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from runner.cli.lab.session import LabSession
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.service.queue import RunRequest
from runner.engine.service.run_context import RunContext, RunResult
from runner.lab.world_inputs import Pace
from runner.server.app import create_app, service_of
from runner.server.service import Service
from tests.app_settings import settings_under
from tests.ui.uikit import populate


def never_called(request: RunRequest, ctx: RunContext) -> RunResult:
    raise AssertionError("the UI tests start no worker; nothing should run")


@dataclass
class UI:
    client: TestClient
    service: Service
    store: ClusterStateStore
    run_ids: list[int]  # in the order of data/runs.json


@pytest.fixture
def ui(tmp_path: Path) -> Iterator[UI]:
    """The whole runner app (no lifespan, so no worker) over a journal and snapshots filled from data/."""
    settings = settings_under(
        tmp_path,
        repo_url=str(tmp_path / "origin.git"),
        webhook_secret="ui-test-webhook-secret",
        backup_dir=tmp_path / "backups",
    )
    app = create_app(settings, never_called)
    service = service_of(app)
    store = ClusterStateStore(settings.db_path)
    run_ids = populate(service.journal, store)
    yield UI(TestClient(app), service, store, run_ids)
    store.close()


REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LabRun:
    session: LabSession
    commit: str

    def release(self) -> None:
        """Let the held Proxmox tasks finish: the run goes on from where it waits."""
        self.session.world.proxmox_state.tasks.held.clear()


def _lab_run(tmp_path_factory: pytest.TempPathFactory, held: bool) -> Iterator[LabRun]:
    session = LabSession(REPO_ROOT, tmp_path_factory.mktemp("lab"), pace=Pace.fast()).start()
    try:
        session.seed_clone()
        if held:  # Proxmox tasks stay unfinished until the test has seen the run live (LabRun.release)
            session.world.proxmox_state.tasks.held.set()
        commit = session.push()
        yield LabRun(session, commit)
    finally:
        session.stop()


@pytest.fixture
def held_lab_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabRun]:
    """A lab session whose first push (the full bootstrap of clusters/home) has just been sent to the runner and
    is held mid-flight: its own lab, so no other test can let it finish first."""
    yield from _lab_run(tmp_path_factory, held=True)


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabRun]:
    """A lab session whose first push (the full bootstrap of clusters/home) has just been sent to the runner."""
    yield from _lab_run(tmp_path_factory, held=False)
