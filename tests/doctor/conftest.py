"""A lab (twins + runner service, nothing pushed yet) for `runner doctor` and the apply preflight."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.cli.lab.session import LabSession
from runner.engine.commands.doctor import DoctorContext, Row, build_context, run_checks
from runner.lab.proxmox.host_setup import ROLE, ROLE_PRIVILEGES
from runner.lab.proxmox.state import DEFAULT_VERSION
from runner.lab.world_inputs import Pace

REPO_ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    session = LabSession(REPO_ROOT, tmp_path_factory.mktemp("doctor-lab"), pace=Pace.fast()).start()
    yield session
    session.stop()


@pytest.fixture
def twin(lab: LabSession) -> Iterator[object]:
    """The lab's Proxmox twin, put back as the README prepared it after each test."""
    state = lab.world.proxmox_state
    yield state
    with state.lock:
        state.access.roles[ROLE] = frozenset(ROLE_PRIVILEGES)
        state.version = DEFAULT_VERSION
        state.storages["local"].content |= {"import"}
        state.bridges = {"vmbr0"}
        state.vms.clear()


def doctor(lab: LabSession) -> list[Row]:
    ctx: DoctorContext = build_context(REPO_ROOT, "home", lab.settings)
    return run_checks(ctx)


def failures(rows: list[Row]) -> list[str]:
    return [f"{row.check}: {row.detail}" for row in rows if row.result.value == "fail"]
