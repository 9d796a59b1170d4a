"""Observation is cheap (one call) and tells managed VMs from foreign ones."""

from __future__ import annotations

from runner.core.state import VmSpec
from runner.drivers.proxmox import ProxmoxDriver
from runner.lab.proxmox import ProxmoxTwinState


def test_list_vms_is_exactly_one_api_call(driver: ProxmoxDriver, created: list[VmSpec], twin_state: ProxmoxTwinState):
    twin_state.calls.reset()
    vms = driver.list_vms()
    assert len(vms) == 5
    calls = twin_state.calls.matching()
    assert [(c.method, c.path, c.params) for c in calls] == [("GET", "/cluster/resources", {"type": "vm"})]


def test_foreign_untagged_vm_is_visible_as_unmanaged(driver: ProxmoxDriver, twin_state: ProxmoxTwinState):
    twin_state.add_foreign_vm(300, "hand-made", running=True)
    (vm,) = driver.list_vms()
    assert (vm.vmid, vm.name, vm.status) == (300, "hand-made", "running")
    assert not vm.managed
    assert vm.spec_hash is None


def test_vmid_held_by_foreign_vm_refuses_create(driver, twin_state: ProxmoxTwinState, reference):
    import pytest

    from runner.core.errors import Permanent

    image, vms = reference
    twin_state.add_foreign_vm(300, "hand-made")
    driver.download_image(image)
    with pytest.raises(Permanent, match="VM 300 already exists on node 'atlas'"):
        driver.create_vm(vms[0])
    assert driver.vm_config("atlas", 300)["name"] == "hand-made"


def test_tags_of_foreign_vm_are_parsed(driver: ProxmoxDriver, twin_state: ProxmoxTwinState):
    twin_state.add_foreign_vm(400, "db", tags="prod;db")
    (vm,) = driver.list_vms()
    assert vm.tags == {"prod", "db"}
    assert not vm.managed


def test_a_change_left_pending_is_read_even_where_the_spec_tag_matches(
    driver: ProxmoxDriver, created: list[VmSpec], twin_state: ProxmoxTwinState, api
):
    """A run stopped between its config POST (memory and spec tag) and its reboot: the tag claims the spec,
    /cluster/resources shows the old memory. That VM's config and pending values are read; no other VM's."""
    from dataclasses import replace
    from types import SimpleNamespace

    from runner.engine.reconcile.observe import observe_vms

    vm = created[1]
    driver.start_vm(vm.node, vm.vmid)
    wanted = replace(vm, memory=8192, spec_hash="abab1212")
    reply = api.request("PUT", f"/nodes/atlas/qemu/{vm.vmid}/config", memory="8192", tags=";".join(wanted.tags))
    assert reply.status_code == 200
    desired = SimpleNamespace(nodes=[SimpleNamespace(vm=wanted if v.vmid == vm.vmid else v) for v in created])
    twin_state.calls.reset()
    vms, _ = observe_vms(desired, SimpleNamespace(proxmox=driver))  # type: ignore[arg-type]
    assert vms[vm.vmid].pending == {"memory": "8192"} and vms[vm.vmid].config["memory"] == "8192"
    assert all(v.pending is None and v.config is None for vmid, v in vms.items() if vmid != vm.vmid)
    reads = [c.path for c in twin_state.calls.matching("GET")]
    assert sorted(reads) == [
        "/cluster/resources",
        f"/nodes/atlas/qemu/{vm.vmid}/config",
        f"/nodes/atlas/qemu/{vm.vmid}/pending",
    ]
