"""Token privileges: the twin answers 403 where PVE would, and the driver turns it into a clear Permanent error.

Rules (FIDELITY.md, Proxmox VE): pve-access-control RPCEnvironment.pm (check/check_any, privilege
separation: token ∩ user), AccessControl.pm roles() (propagation, deeper entries win), apidata.js
endpoint permissions, qemu-server Qemu.pm create_vm checks, pve-manager Cluster.pm resources (VM.Audit).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from runner.core.errors import Permanent
from runner.core.state import ImageSpec, VmSpec
from runner.drivers.proxmox.errors import PermissionDenied
from runner.lab.proxmox import ProxmoxTwin
from runner.lab.proxmox.host_setup import ROLE, ROLE_PRIVILEGES, HostPlan, prepare_host
from tests.proxmox.conftest import Api

TOKEN = "runner@pve!gitops"
SECRET = "0b8f3e61-2c4d-4e5f-8a9b-1c2d3e4f5a6b"


@pytest.fixture
def prepared(twin: ProxmoxTwin) -> ProxmoxTwin:
    """The host prepared with the README's commands: runner@pve, its privsep token, the documented role."""
    prepare_host(twin.state, HostPlan(TOKEN), SECRET)
    return twin


@pytest.fixture
def token_api(prepared: ProxmoxTwin) -> Api:
    return Api(prepared, f"{TOKEN}={SECRET}")


@pytest.fixture
def token_driver(prepared: ProxmoxTwin, make_driver):  # type: ignore[no-untyped-def]
    return make_driver(SECRET, TOKEN, poll_interval=0.01, timeout=2.0)


def _without(twin: ProxmoxTwin, privilege: str) -> None:
    twin.state.access.roles[ROLE] = frozenset(ROLE_PRIVILEGES) - {privilege}


def test_a_403_carries_pves_text_in_the_status_line_and_the_body(prepared, token_api):
    _without(prepared, "VM.Audit")
    prepared.state.add_foreign_vm(300, "legacy", tags="managed-by-runner")
    response = token_api.request("GET", "/nodes/atlas/qemu/300/config")
    assert response.status_code == 403
    assert response.reason == "Permission check failed (/vms/300, VM.Audit)"
    assert response.json() == {"data": None, "message": "Permission check failed (/vms/300, VM.Audit)\n"}


def test_before_pve_8_4_the_message_is_only_in_the_status_line(prepared, token_api):
    prepared.state.version = "8.2.4"
    _without(prepared, "VM.Audit")
    prepared.state.add_foreign_vm(300, "legacy")
    response = token_api.request("GET", "/nodes/atlas/qemu/300/config")
    assert (response.status_code, response.reason) == (403, "Permission check failed (/vms/300, VM.Audit)")
    assert response.json() == {"data": None}


def test_a_privsep_token_without_acls_of_its_own_may_do_nothing(prepared, token_api):
    for path in ["/vms", "/storage/local-lvm", "/storage/local", "/nodes/atlas", "/sdn/zones/localnetwork/vmbr0"]:
        prepared.state.access.revoke(path, TOKEN, ROLE)
    prepared.state.add_foreign_vm(300, "legacy")
    assert token_api.request("GET", "/cluster/resources", type="vm").json()["data"] == []  # silently left out
    assert token_api.request("GET", "/access/permissions", path="/vms/300").json()["data"] == {"/vms/300": {}}


def test_effective_privileges_are_the_users_and_the_tokens_intersection(prepared, token_api):
    prepared.state.access.add_role("AuditOnly", {"VM.Audit"})
    prepared.state.access.revoke("/vms", "runner@pve", ROLE)
    prepared.state.access.grant("/vms", "runner@pve", "AuditOnly")
    dump = token_api.request("GET", "/access/permissions", path="/vms/300").json()["data"]
    assert dump == {"/vms/300": {"VM.Audit": 1}}


def test_a_deeper_acl_replaces_the_inherited_one_and_unpropagated_entries_stop_at_their_path(prepared, token_api):
    access = prepared.state.access
    access.add_role("AuditOnly", {"VM.Audit"})
    access.grant("/vms/301", TOKEN, "AuditOnly")
    access.grant("/vms/301", "runner@pve", "AuditOnly")
    data = token_api.request("GET", "/access/permissions", path="/vms/301").json()["data"]
    assert data == {"/vms/301": {"VM.Audit": 1}}
    access.revoke("/vms", TOKEN, ROLE)
    access.grant("/vms", TOKEN, ROLE, propagate=False)
    assert token_api.request("GET", "/access/permissions", path="/vms/300").json()["data"] == {"/vms/300": {}}


def test_cluster_resources_omits_vms_the_token_may_not_audit(prepared, token_api):
    prepared.state.add_foreign_vm(300, "seen")
    prepared.state.add_foreign_vm(400, "hidden")
    prepared.state.access.grant("/vms/400", TOKEN, "NoAccess")
    rows = token_api.request("GET", "/cluster/resources", type="vm").json()["data"]
    assert [row["vmid"] for row in rows] == [300]


def test_download_needs_sys_access_network_on_the_node_or_audit_and_modify_on_root(prepared, token_api, reference):
    image, _ = reference
    _without(prepared, "Sys.AccessNetwork")
    params = {"url": image.url, "content": "import", "filename": image.filename}
    response = token_api.request("POST", "/nodes/atlas/storage/local/download-url", **params)
    assert (response.status_code, response.reason) == (403, "Permission check failed")
    prepared.state.access.add_role("SysAuditModify", {"Sys.Audit", "Sys.Modify"})
    for who in ("runner@pve", TOKEN):
        prepared.state.access.grant("/", who, "SysAuditModify", propagate=False)
    assert token_api.request("POST", "/nodes/atlas/storage/local/download-url", **params).status_code == 200


def test_the_documented_role_creates_starts_and_deletes_the_reference_vms(token_driver, reference):
    image, vms = reference
    token_driver.download_image(image)
    for vm in vms:
        token_driver.create_vm(vm)
    token_driver.start_vm("atlas", vms[0].vmid)
    assert {vm.vmid for vm in token_driver.list_vms()} == {vm.vmid for vm in vms}
    token_driver.stop_vm("atlas", vms[0].vmid)
    token_driver.delete_vm("atlas", vms[0].vmid)


def test_create_without_vm_allocate_names_the_path_and_privilege(prepared, token_driver, reference):
    """PVE's create_vm raises a bare 'Permission check failed': the driver names what the call needs."""
    image, vms = reference
    token_driver.download_image(image)
    _without(prepared, "VM.Allocate")
    with pytest.raises(PermissionDenied) as caught:
        token_driver.create_vm(vms[0])
    assert (caught.value.path, caught.value.privilege) == ("/vms/300", "VM.Allocate")
    assert "lacks VM.Allocate on /vms/300" in str(caught.value)
    assert prepared.state.vms == {}


@pytest.mark.parametrize("version", ["8.2.4", "8.4.1"])
def test_a_403_is_permanent_and_names_path_and_privilege_with_or_without_a_body_message(
    prepared, token_driver, reference, version
):
    image, vms = reference
    token_driver.download_image(image)
    token_driver.create_vm(vms[0])
    prepared.state.version = version
    _without(prepared, "VM.PowerMgmt")
    with pytest.raises(PermissionDenied) as caught:
        token_driver.start_vm("atlas", vms[0].vmid)
    assert (caught.value.path, caught.value.privilege) == ("/vms/300", "VM.PowerMgmt")


def test_a_bridge_without_sdn_use_is_refused(prepared, token_driver, reference):
    image, vms = reference
    token_driver.download_image(image)
    vm: VmSpec = replace(vms[0], bridge="vmbr9")
    with pytest.raises(PermissionDenied) as caught:
        token_driver.create_vm(vm)
    assert (caught.value.path, caught.value.privilege) == ("/sdn/zones/localnetwork/vmbr9", "SDN.Use")


def test_an_import_from_a_storage_the_token_cannot_read_is_refused(prepared, token_driver, reference):
    image, vms = reference
    token_driver.download_image(image)
    for who in ("runner@pve", TOKEN):
        prepared.state.access.revoke("/storage/local", who, ROLE)
    with pytest.raises(Permanent, match=r"Datastore.AllocateSpace\|Datastore.Audit on /storage/local"):
        token_driver.create_vm(vms[0])


def test_image_listing_and_download_need_the_storage_privileges(prepared, token_driver, reference):
    image, _ = reference
    _without(prepared, "Datastore.AllocateTemplate")
    with pytest.raises(PermissionDenied, match=r"lacks Datastore\.AllocateTemplate on /storage/local"):
        token_driver.download_image(image)
    img: ImageSpec = image
    assert token_driver.list_images("atlas", img.storage) == frozenset()
