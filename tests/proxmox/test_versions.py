"""The PVE release the twin imitates decides what it accepts: download-url content types, error bodies.

Rules (FIDELITY.md, Proxmox VE): pve-storage API2/Storage/Status.pm download_url (content enum from 8.2.10,
qcow2 for `import` from 8.3.6, `compression` only for iso, storage content types), pve-http-server
Formatter/Standard.pm (JSON `message` from 5.2.0) and AnyEvent.pm (message in the status line).
"""

from __future__ import annotations

import pytest

from runner.core.errors import Permanent, Transient
from runner.drivers.proxmox import TaskFailed
from runner.lab.proxmox import Fault
from runner.lab.proxmox.state import DEFAULT_VERSION


def _download(api, image, **extra):  # type: ignore[no-untyped-def]
    params = {"url": image.url, "content": "import", "filename": image.filename, **extra}
    return api.request("POST", "/nodes/atlas/storage/local/download-url", **params)


def test_the_twin_says_which_release_it_imitates(api, twin):
    assert DEFAULT_VERSION.startswith("9.2.")
    assert api.request("GET", "/version").json()["data"] == {
        "version": DEFAULT_VERSION,
        "release": "9.2",
        "repoid": "2e4fc3c8d7c1a0e9",
    }
    twin.state.version = "8.4.1"
    assert api.request("GET", "/version").json()["data"]["release"] == "8.4"


def test_pve_8_2_has_no_import_content_for_downloads(api, twin, reference):
    twin.state.version = "8.2.4"
    response = _download(api, reference[0])
    assert (response.status_code, response.reason) == (400, "Parameter verification failed.")
    assert response.json() == {
        "data": None,
        "errors": {"content": "value 'import' does not have a value in the enumeration 'iso, vztmpl'"},
    }


def test_pve_8_3_imports_only_ova_files(api, twin, reference):
    twin.state.version = "8.3.2"
    response = _download(api, reference[0])
    assert response.status_code == 400
    assert response.json()["errors"] == {"filename": "invalid filename or wrong extension"}


def test_pve_8_4_imports_a_qcow2(driver, twin, reference):
    image, _ = reference
    driver.download_image(image)
    assert driver.list_images("atlas", "local") == {f"local:import/{image.filename}"}


def test_a_storage_without_the_import_content_type_refuses_the_download(driver, twin, reference):
    twin.state.storages["local"].content -= {"import"}
    with pytest.raises(Permanent, match="storage 'local' is not configured for content-type 'import'"):
        driver.download_image(reference[0])


def test_compression_is_refused_for_import_downloads(driver, api, twin, reference):
    upid = _download(api, reference[0], compression="gz").json()["data"]
    with pytest.raises(TaskFailed, match="decompression not supported for import"):
        driver.client.wait_task("atlas", upid, "download")


@pytest.mark.parametrize("version", ["8.2.4", "8.4.1"])
def test_retry_or_stop_is_decided_on_real_shaped_replies(driver, twin, reference, version):
    """The message comes from the status line when the body has none (before 8.4), from either after."""
    twin.state.version = version
    twin.state.faults.add(Fault("GET", "/cluster/resources", fail_status=500, fail_count=1, fail_message="got timeout"))
    with pytest.raises(Transient, match="500 got timeout"):
        driver.list_vms()
    twin.state.add_foreign_vm(300, "legacy")
    with pytest.raises(Permanent, match="VM 300 already exists on node 'atlas'"):
        driver.create_vm(reference[1][0])
