"""Fixtures: a CA bundle, minimal machine configs, the node twins on loopback and the driver via the shim."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Literal

import pytest
from cryptography.hazmat.primitives import serialization

from runner.core.errors import Transient
from runner.core.secret import Secret
from runner.drivers.talos import TalosctlDriver
from runner.lab import certificates
from runner.lab.talos import Delays, TalosTwin, install_talosctl_shim, start_talos_twin

DATA = Path(__file__).parent / "data"
INSTALLER = "factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.11.2"


@dataclass(frozen=True)
class Ca:
    crt_pem: bytes
    key_pem: bytes  # Talos labels: "ED25519 PRIVATE KEY" / "EC PRIVATE KEY"


def make_ca(organization: str, kind: Literal["ecdsa", "ed25519"]) -> Ca:
    ca = certificates.issue(
        certificates.name(organization=organization), algorithm=kind, lifetime=dt.timedelta(days=3650), ca=True
    )
    if kind == "ed25519":
        der = ca.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        body = base64.encodebytes(der).decode()
        key_pem = f"-----BEGIN ED25519 PRIVATE KEY-----\n{body}-----END ED25519 PRIVATE KEY-----\n".encode()
    else:
        key_pem = ca.key_pem(serialization.PrivateFormat.TraditionalOpenSSL)
    return Ca(ca.cert_pem(), key_pem)


@dataclass(frozen=True)
class Bundle:
    """The parts of a Talos secrets bundle these tests need."""

    os_ca: Ca
    k8s_ca: Ca
    values: dict[str, str]

    def config(self, role: str, hostname: str, endpoint: str = "10.0.0.11", **overrides: str) -> str:
        values = {
            **self.values,
            "os_ca_crt": _b64(self.os_ca.crt_pem),
            "os_ca_key": _b64(self.os_ca.key_pem),
            "k8s_ca_crt": _b64(self.k8s_ca.crt_pem),
            "k8s_ca_key": _b64(self.k8s_ca.key_pem),
            "hostname": hostname,
            "endpoint": endpoint,
            "installer": INSTALLER,
            **overrides,
        }
        return Template((DATA / f"{role}.yaml").read_text()).substitute(values)

    def secret_values(self) -> list[str]:
        key_lines = [line for line in self.os_ca.key_pem.decode().splitlines() if "-----" not in line]
        return [*self.values.values(), _b64(self.os_ca.key_pem), _b64(self.k8s_ca.key_pem), *key_lines]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def make_bundle() -> Bundle:
    return Bundle(
        os_ca=make_ca("talos", "ed25519"),
        k8s_ca=make_ca("kubernetes", "ecdsa"),
        values={
            "machine_token": f"{secrets.token_hex(3)}.{secrets.token_hex(8)}",
            "bootstrap_token": f"{secrets.token_hex(3)}.{secrets.token_hex(8)}",
            "cluster_id": base64.b64encode(secrets.token_bytes(32)).decode(),
            "cluster_secret": base64.b64encode(secrets.token_bytes(32)).decode(),
            "secretbox": base64.b64encode(secrets.token_bytes(32)).decode(),
        },
    )


@pytest.fixture(scope="session")
def bundle() -> Bundle:
    return make_bundle()


@pytest.fixture(scope="session")
def other_bundle() -> Bundle:
    return make_bundle()


@pytest.fixture
def twin() -> Iterator[TalosTwin]:
    running = start_talos_twin(Delays(boot=0.05, install=0.05, reboot=0.05))
    yield running
    running.stop()


@pytest.fixture
def talosctl(twin: TalosTwin, tmp_path: Path) -> Path:
    return install_talosctl_shim(tmp_path / "bin", twin.url)


def driver_for(bundle: Bundle, talosctl: Path, timeout: float = 30) -> TalosctlDriver:
    key = Secret(bundle.os_ca.key_pem.decode())
    return TalosctlDriver(bundle.os_ca.crt_pem, key, talosctl_path=str(talosctl), timeout=timeout)


@pytest.fixture
def driver(bundle: Bundle, talosctl: Path) -> TalosctlDriver:
    return driver_for(bundle, talosctl)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll until `condition` holds; the deadline only turns a hang into a failure. A Transient answer (etcd
    still starting: "context deadline exceeded") counts as "not yet", as the runner's own waits treat it."""
    deadline = time.monotonic() + timeout
    last: Transient | None = None
    while True:
        try:
            if condition():
                return
        except Transient as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}" + (f" (last: {last})" if last else ""))
        time.sleep(0.02)


class Clock:
    """A clock the test moves by hand (`clock.now += 5`): twin delays without sleeping."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def bootstrap_and_wait(driver: TalosctlDriver, ip: str) -> None:
    """Bootstrap, then wait until etcd serves, as the runner does: etcd starts a moment after the call."""
    driver.bootstrap(ip)

    def serving() -> bool:
        try:
            return bool(driver.etcd_members(ip))
        except Transient:  # "context deadline exceeded" while etcd starts
            return False

    wait_until(serving, f"etcd on {ip} to serve after its bootstrap")


def boot_to_maintenance(twin: TalosTwin, ip: str, hostname: str | None = None) -> None:
    twin.register(ip, hostname)
    twin.power(ip, True)
    wait_until(lambda: twin.phase(ip) == "maintenance", f"{ip} in maintenance")


def install(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, ip: str, role: str, hostname: str) -> None:
    """Boot a node, apply its config in maintenance mode through the driver and wait until it runs."""
    boot_to_maintenance(twin, ip, hostname)
    driver.apply_config(ip, Secret(bundle.config(role, hostname)), insecure=True)
    wait_until(lambda: twin.phase(ip) == "running", f"{ip} running")


def running(twin: TalosTwin, bundle: Bundle, ip: str, role: str, hostname: str) -> None:
    """A node that is already installed and running: set up through the twin, for tests about later stages."""
    twin.preinstall(ip, bundle.config(role, hostname), hostname)


def talosctl_as_runner(driver: TalosctlDriver, *args: str, nodes: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run the twin's talosctl with the runner's credentials, for commands the runner itself never runs."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "talosconfig"
        config.write_text(driver.talosconfig_yaml(list(nodes), list(nodes)).reveal())
        argv = [driver.talosctl_path, "--talosconfig", str(config), "-n", ",".join(nodes), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
