"""Fixtures: the Proxmox twin holding the reference cluster's token, the Image Factory twin, a repo pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from runner.lab.imagefactory import FactoryState
from runner.lab.imagefactory import create_app as factory_app
from runner.lab.proxmox import ProxmoxTwin, ProxmoxTwinState, serve_proxmox_twin
from runner.lab.proxmox.host_setup import HostPlan, prepare_host
from runner.lab.serve import RunningServer, serve_in_thread
from tests.engine.twins import FAST, lab_token, repo_at


@pytest.fixture
def proxmox(tmp_path: Path) -> Iterator[ProxmoxTwin]:
    token_id, secret = lab_token()
    state = ProxmoxTwinState(tokens={token_id: secret}, delays=replace(FAST))
    prepare_host(state, HostPlan(token_id), secret)  # the token holds exactly the documented role
    twin = serve_proxmox_twin(state, tmp_path / "pve")
    yield twin
    twin.stop()


@pytest.fixture
def factory() -> Iterator[RunningServer]:
    server = serve_in_thread(factory_app(FactoryState()))
    yield server
    server.stop()


@pytest.fixture
def repo(tmp_path: Path, proxmox: ProxmoxTwin) -> Path:
    return repo_at(tmp_path / "repo", proxmox.url)
