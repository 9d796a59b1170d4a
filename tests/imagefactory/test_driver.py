"""The driver against the twin over real HTTP: ids, images, checksums, and error translation."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from runner.core.errors import Permanent, Transient
from runner.core.metanet import meta_network_config
from runner.core.schematic import Schematic, node_schematic, parse_schematic, schematic_id
from runner.drivers.imagefactory import ImageFactoryDriver
from runner.lab.imagefactory import image_sha256
from runner.lab.serve import free_port
from tests.imagefactory.conftest import Factory

NODE = node_schematic(
    ["siderolabs/qemu-guest-agent", "siderolabs/tailscale"],
    meta_network_config("talos-cp-01", "10.0.0.11", 16, "10.0.0.1", ["1.1.1.1", "8.8.8.8"], "eth0"),
)


def test_ensure_schematic_registers_and_returns_our_id(driver: ImageFactoryDriver, factory: Factory) -> None:
    sid = driver.ensure_schematic(NODE)
    assert sid == schematic_id(NODE)
    assert driver.ensure_schematic(NODE) == sid  # idempotent
    assert parse_schematic(httpx.get(f"{factory.url}/schematics/{sid}").content) == NODE  # what the factory keeps
    assert len(factory.state.calls_to("POST", "/schematics")) == 2


def test_downloaded_image_matches_the_twins_checksum(driver: ImageFactoryDriver) -> None:
    sid = driver.ensure_schematic(NODE)
    url = driver.image_url(sid, "v1.11.2", "metal")
    assert url.endswith(f"/image/{sid}/v1.11.2/metal-amd64.qcow2")
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-qemu-disk"
    assert int(response.headers["content-length"]) == len(response.content)
    assert hashlib.sha256(response.content).hexdigest() == image_sha256(sid, "v1.11.2", "metal-amd64.qcow2")


def test_community_factory_publishes_no_checksum(driver: ImageFactoryDriver, factory: Factory) -> None:
    sid = driver.ensure_schematic(NODE)
    assert driver.image_checksum(sid, "v1.11.2") is None
    assert driver.image_checksum(sid, "v1.11.2") is None
    assert len(factory.state.calls_to("GET", "/image/")) == 1  # the 402 is remembered


def test_enterprise_factory_checksum_is_used(driver: ImageFactoryDriver, factory: Factory) -> None:
    factory.state.checksums = True
    sid = driver.ensure_schematic(NODE)
    assert driver.image_checksum(sid, "v1.11.2") == image_sha256(sid, "v1.11.2", "metal-amd64.qcow2")


def test_versions_and_official_extensions(driver: ImageFactoryDriver) -> None:
    assert "v1.11.2" in driver.versions()
    assert set(NODE.extensions) <= set(driver.official_extensions("v1.11.2"))
    assert "siderolabs/not-a-thing" not in driver.official_extensions("v1.11.2")


def test_unknown_version_is_permanent(driver: ImageFactoryDriver) -> None:
    with pytest.raises(Permanent, match=r"404: version v1\.99\.0 is not available"):
        driver.official_extensions("v1.99.0")


def test_owner_rejected_by_community_factory_is_permanent_with_its_message(driver: ImageFactoryDriver) -> None:
    with pytest.raises(Permanent, match="400: owner field is only supported in Enterprise edition"):
        driver.ensure_schematic(Schematic(owner="alice"))


def test_5xx_is_transient_then_recovers(driver: ImageFactoryDriver, factory: Factory) -> None:
    factory.state.inject_failures(1, status=503, path_prefix="/schematics")
    with pytest.raises(Transient, match="503"):
        driver.ensure_schematic(NODE)
    assert driver.ensure_schematic(NODE) == schematic_id(NODE)


def test_timeout_is_transient(factory: Factory) -> None:
    factory.state.faults.latency = 0.5
    with ImageFactoryDriver(factory.url, timeout=0.05) as d, pytest.raises(Transient, match="timed out"):
        d.versions()


def test_connection_refused_is_transient() -> None:
    with ImageFactoryDriver(f"http://127.0.0.1:{free_port()}") as d, pytest.raises(Transient, match="ConnectError"):
        d.ensure_schematic(NODE)


def test_factory_computing_another_id_is_permanent() -> None:
    # A factory whose canonical form differs from ours (e.g. a future field) answers another id.
    transport = httpx.MockTransport(lambda request: httpx.Response(201, json={"id": "0" * 64, "schematic": ""}))
    with (
        ImageFactoryDriver("http://factory.test", transport=transport) as d,
        pytest.raises(Permanent, match="factory computed a different id"),
    ):
        d.ensure_schematic(NODE)
