"""Fixtures: a Proxmox VE twin served over HTTPS on loopback, a driver pointed at it, the reference VMs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from proxmox_reference import load_reference

from runner.core.secret import Secret
from runner.core.state import ImageSpec, VmSpec
from runner.drivers.proxmox import ProxmoxDriver
from runner.lab.proxmox import Delays, ProxmoxTwin, ProxmoxTwinState, ReasonPhraseH11Protocol, create_app
from runner.lab.proxmox.tls import CertFiles, write_self_signed
from runner.lab.serve import RunningServer, serve_in_thread

DATA = Path(__file__).parent / "data"
TOKEN_ID = "root@pam!runner"
TOKEN_SECRET = "5f0d8a8e-2b7c-4d4e-9a3b-6c1e2f3a4b5c"
FAST = Delays(task=0.01, create=0.01, start=0.01, shutdown=0.01, download=0.01)


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return write_self_signed(tmp_path_factory.mktemp("pve-cert"), hostname="atlas")


@pytest.fixture(scope="session")
def server(certs: CertFiles) -> Iterator[RunningServer]:
    """One HTTPS server for the session; every test gets a fresh twin state behind it."""
    running = serve_in_thread(
        create_app(), certfile=certs.certfile, keyfile=certs.keyfile, http=ReasonPhraseH11Protocol
    )
    yield running
    running.stop()


@pytest.fixture
def twin_state(server: RunningServer) -> ProxmoxTwinState:
    state = ProxmoxTwinState(tokens={TOKEN_ID: TOKEN_SECRET}, delays=replace(FAST))
    server.server.config.app.state.twin = state
    return state


@pytest.fixture
def twin(twin_state: ProxmoxTwinState, server: RunningServer, certs: CertFiles) -> ProxmoxTwin:
    return ProxmoxTwin(twin_state, server, certs.certfile)


@pytest.fixture
def own_twin(certs: CertFiles) -> Iterator[ProxmoxTwin]:
    """A twin on its own server, for tests that stop it."""
    state = ProxmoxTwinState(tokens={TOKEN_ID: TOKEN_SECRET}, delays=replace(FAST))
    running = serve_in_thread(
        create_app(state), certfile=certs.certfile, keyfile=certs.keyfile, http=ReasonPhraseH11Protocol
    )
    yield ProxmoxTwin(state, running, certs.certfile)
    running.stop()


@pytest.fixture
def driver(twin: ProxmoxTwin) -> Iterator[ProxmoxDriver]:
    driver = ProxmoxDriver(
        twin.url, TOKEN_ID, Secret(TOKEN_SECRET), ca_bundle=str(twin.ca_bundle), timeout=2.0, poll_interval=0.01
    )
    yield driver
    driver.close()


class Api:
    """Raw HTTP against the twin (what proxmoxer sends, without the driver's translation)."""

    def __init__(self, twin: ProxmoxTwin, token: str | None = f"{TOKEN_ID}={TOKEN_SECRET}") -> None:
        self.base = twin.url + "/api2/json"
        self.verify = str(twin.ca_bundle)
        self.headers = {"Authorization": f"PVEAPIToken={token}"} if token else {}

    def request(self, method: str, path: str, /, **params: Any) -> requests.Response:
        body = params if method in ("POST", "PUT") else None
        query = None if body is not None else params
        return requests.request(
            method, self.base + path, params=query, data=body, headers=self.headers, verify=self.verify, timeout=5
        )


@pytest.fixture
def api(twin: ProxmoxTwin) -> Api:
    return Api(twin)


@pytest.fixture
def make_api(twin: ProxmoxTwin) -> Callable[[str | None], Api]:
    """Raw HTTP with a given `Authorization: PVEAPIToken=<token>` (None: no header)."""
    return lambda token: Api(twin, token)


@pytest.fixture
def make_driver(twin: ProxmoxTwin) -> Iterator[Callable[..., ProxmoxDriver]]:
    """A driver with other credentials/CA/timeouts/twin than the default one; closed after the test."""
    made: list[ProxmoxDriver] = []

    def make(
        secret: str = TOKEN_SECRET, token_id: str = TOKEN_ID, to: ProxmoxTwin = twin, **options: Any
    ) -> ProxmoxDriver:
        options.setdefault("ca_bundle", str(to.ca_bundle))
        made.append(ProxmoxDriver(to.url, token_id, Secret(secret), **options))
        return made[-1]

    yield make
    for driver in made:
        driver.close()


@pytest.fixture
def reference() -> tuple[ImageSpec, list[VmSpec]]:
    return load_reference()


@pytest.fixture
def created(driver: ProxmoxDriver, reference: tuple[ImageSpec, list[VmSpec]]) -> list[VmSpec]:
    """The reference image downloaded and the five reference VMs created (stopped)."""
    image, vms = reference
    driver.download_image(image)
    for vm in vms:
        driver.create_vm(vm)
    return vms
