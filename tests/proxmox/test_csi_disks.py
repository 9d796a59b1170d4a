"""The disk calls Proxmox CSI makes, answered as PVE does and checked against the CSI token's ACL.

Rules (FIDELITY.md, Proxmox CSI): pve-storage 9.1.7 API2/Storage/Content.pm `create` and Status.pm
`read_status` (permissions from apidata.js), LvmThinPlugin.pm alloc_image (name `vm-<vmid>-*`, raw only),
Storage.pm check_volume_access (another VM's disk: Datastore.Allocate, or Datastore.Audit + VM.Config.Disk on
its owner), qemu-server Qemu.pm $check_storage_access.
"""

from __future__ import annotations

import pytest

from runner.lab.proxmox import ProxmoxTwin
from runner.lab.proxmox.host_setup import prepare_csi
from tests.proxmox.conftest import Api

CSI = "kubernetes-csi@pve!csi"
SECRET = "7d1f0c2a-csi-token-secret"
DISK = "vm-9999-pvc-0a1b2c3d"


@pytest.fixture
def csi(twin: ProxmoxTwin) -> Api:
    prepare_csi(twin.state, CSI, "local-lvm", SECRET)
    twin.state.add_foreign_vm(303, "talos-worker-01", running=True)
    return Api(twin, f"{CSI}={SECRET}")


def allocate(api: Api, name: str = DISK, size: str = "1048576", vmid: int = 9999) -> object:
    return api.request("POST", "/nodes/atlas/storage/local-lvm/content", vmid=vmid, filename=name, size=size)


def test_a_disk_is_allocated_for_a_vmid_without_a_vm(csi: Api, twin: ProxmoxTwin) -> None:
    response = allocate(csi)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == f"local-lvm:{DISK}"
    volume = twin.state.volume(f"local-lvm:{DISK}")
    assert volume is not None
    assert (volume.size, volume.vmid, volume.format, volume.content) == (1024**3, 9999, "raw", "images")
    status = csi.request("GET", "/nodes/atlas/storage/local-lvm/status").json()["data"]
    assert status["used"] >= 1024**3 and status["type"] == "lvmthin"


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("pvc-0a1b", "1048576", "illegal name 'pvc-0a1b' - should be 'vm-9999-*'"),
        (f"{DISK}.qcow2", "1G", "unsupported format 'qcow2'"),
    ],
)
def test_lvm_thin_refuses_what_pve_refuses(csi: Api, name: str, size: str, message: str) -> None:
    response = allocate(csi, name, size)
    assert response.status_code == 500
    assert response.reason == message


def test_the_same_disk_twice_is_refused(csi: Api) -> None:
    assert allocate(csi).status_code == 200
    response = allocate(csi)
    assert response.status_code == 500
    assert "already exists" in response.reason


def test_allocating_needs_allocate_space_on_that_storage(csi: Api, twin: ProxmoxTwin) -> None:
    twin.state.access.roles["CSI"] = twin.state.access.roles["CSI"] - {"Datastore.AllocateSpace"}
    response = allocate(csi)
    assert (response.status_code, response.reason) == (
        403,
        "Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)",
    )


def test_attaching_another_vms_disk_needs_allocate_or_audit_and_config_disk(csi: Api, twin: ProxmoxTwin) -> None:
    assert allocate(csi).status_code == 200
    # the CSI role: Datastore.Allocate on the storage lets it use vm-9999's disk on VM 303
    ok = csi.request("PUT", "/nodes/atlas/qemu/303/config", scsi1=f"local-lvm:{DISK},wwn=0x5056432d49443031")
    assert ok.status_code == 200, ok.text
    twin.state.vms[303].config.pop("scsi1")
    twin.state.access.roles["CSI"] = twin.state.access.roles["CSI"] - {"Datastore.Allocate"}
    twin.state.access.revoke("/vms", CSI, "CSI")
    twin.state.access.grant("/vms/303", CSI, "CSI")
    refused = csi.request("PUT", "/nodes/atlas/qemu/303/config", scsi1=f"local-lvm:{DISK}")
    assert (refused.status_code, refused.reason) == (403, "Permission check failed (/vms/9999, VM.Config.Disk)")
