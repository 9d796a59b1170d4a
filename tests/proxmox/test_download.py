"""download-url: bytes come from the resolver, the checksum is verified like PVE does."""

from __future__ import annotations

from dataclasses import replace

import pytest

from runner.core.errors import Permanent
from runner.core.state import ImageSpec, VmSpec
from runner.drivers.proxmox import ProxmoxDriver, TaskFailed
from runner.lab.proxmox import ProxmoxTwinState, fake_qcow2


def test_checksum_mismatch_fails_the_task(driver: ProxmoxDriver, reference: tuple[ImageSpec, list[VmSpec]]):
    image, _ = reference
    wrong = replace(image, checksum="0" * 64)
    with pytest.raises(TaskFailed, match=r"checksum mismatch: got '[0-9a-f]{64}' != expect '0{64}'"):
        driver.download_image(wrong)
    assert driver.list_images("atlas", "local") == frozenset()


def test_resolver_supplies_the_bytes(driver: ProxmoxDriver, twin_state: ProxmoxTwinState, reference):
    image, _ = reference
    served = fake_qcow2(virtual_size=2 * 1024**3, payload=b"talos")
    twin_state.resolver = lambda url: served
    driver.download_image(replace(image, checksum=None))
    volume = twin_state.storages["local"].volumes[image.volid]
    assert (volume.size, volume.virtual_size) == (len(served), 2 * 1024**3)


def test_unreachable_url_fails_the_task(driver: ProxmoxDriver, twin_state: ProxmoxTwinState, reference):
    image, _ = reference

    def unreachable(url: str) -> bytes:
        raise OSError("connection refused")

    twin_state.resolver = unreachable
    with pytest.raises(Permanent, match="download failed"):
        driver.download_image(image)


def test_not_a_qcow2_is_refused(driver: ProxmoxDriver, twin_state: ProxmoxTwinState, reference):
    image, _ = reference
    twin_state.resolver = lambda url: b"<html>not found</html>"
    with pytest.raises(Permanent, match="not a valid qcow2 image"):
        driver.download_image(replace(image, checksum=None))


def test_second_download_without_checksum_refuses_to_overwrite(driver: ProxmoxDriver, reference):
    image, _ = reference
    driver.download_image(image)
    driver.download_image(image)  # same checksum: PVE keeps the file and succeeds
    with pytest.raises(Permanent, match="refusing to override existing file"):
        driver.download_image(replace(image, checksum=None))


def test_import_content_is_not_allowed_on_lvm(api):
    response = api.request(
        "POST",
        "/nodes/atlas/storage/local-lvm/download-url",
        url="https://x/a.qcow2",
        content="import",
        filename="a.qcow2",
    )
    assert response.status_code == 500
    assert "not a file based storage" in response.json()["message"]
