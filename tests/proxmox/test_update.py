"""Changing a VM: what applies at once, what waits for a reboot, and disks that only grow."""

from __future__ import annotations

from dataclasses import replace

import pytest

from runner.core.errors import Permanent
from runner.core.state import VmSpec
from runner.drivers.proxmox import ProxmoxDriver
from runner.lab.proxmox import ProxmoxTwinState


def test_memory_change_on_running_vm_is_pending_until_reboot(driver: ProxmoxDriver, created: list[VmSpec], api):
    vm = created[1]
    driver.start_vm(vm.node, vm.vmid)
    bigger = replace(vm, memory=8192)
    needs_reboot = driver.update_vm(bigger, driver.vm_config(vm.node, vm.vmid))
    assert needs_reboot is True
    pending = {row["key"]: row for row in api.request("GET", "/nodes/atlas/qemu/301/pending").json()["data"]}
    assert pending["memory"] == {"key": "memory", "value": "4096", "pending": "8192"}
    current = api.request("GET", "/nodes/atlas/qemu/301/config", current=1).json()["data"]
    assert current["memory"] == "4096"
    assert driver.list_vms()[1].maxmem == 4096 * 1024 * 1024
    driver.reboot_vm(vm.node, vm.vmid)
    assert driver.pending_changes(vm.node, vm.vmid) == {}
    assert driver.list_vms()[1].maxmem == 8192 * 1024 * 1024


def test_memory_change_on_stopped_vm_applies_without_reboot(driver: ProxmoxDriver, created: list[VmSpec]):
    vm = created[0]
    assert driver.update_vm(replace(vm, memory=6144, cores=3), driver.vm_config(vm.node, vm.vmid)) is False
    config = driver.vm_config(vm.node, vm.vmid)
    assert (config["memory"], config["cores"]) == ("6144", "3")


def test_tags_and_onboot_apply_at_once_on_running_vm(driver: ProxmoxDriver, created: list[VmSpec]):
    vm = created[2]
    driver.start_vm(vm.node, vm.vmid)
    changed = replace(vm, spec_hash="ffff0000", onboot=False)
    assert driver.update_vm(changed, driver.vm_config(vm.node, vm.vmid)) is False
    observed = {v.vmid: v for v in driver.list_vms()}[vm.vmid]
    assert observed.spec_hash == "ffff0000"
    assert driver.vm_config(vm.node, vm.vmid)["onboot"] == "0"


def test_disk_grows_and_never_shrinks(driver: ProxmoxDriver, created: list[VmSpec], twin_state: ProxmoxTwinState):
    vm = created[0]
    driver.update_vm(replace(vm, disk_gb=48), driver.vm_config(vm.node, vm.vmid))
    assert "size=48G" in driver.vm_config(vm.node, vm.vmid)["scsi0"]
    twin_state.calls.reset()
    assert driver.update_vm(replace(vm, disk_gb=16), driver.vm_config(vm.node, vm.vmid)) is False
    assert twin_state.calls.matching("PUT", "*/resize") == []


def test_twin_refuses_to_shrink_a_disk(driver: ProxmoxDriver, created: list[VmSpec]):
    with pytest.raises(Permanent, match="shrinking disks is not supported"):
        driver.client.run_task("PUT", "nodes/atlas/qemu/300/resize", "atlas", disk="scsi0", size="10G")


def test_stale_digest_is_refused(driver: ProxmoxDriver, created: list[VmSpec]):
    vm = created[0]
    stale = driver.vm_config(vm.node, vm.vmid)
    driver.update_vm(replace(vm, cores=3), stale)
    with pytest.raises(Permanent, match="checksum mismatch"):
        driver.update_vm(replace(vm, cores=4), stale)


def test_mac_change_is_applied_to_net0(driver: ProxmoxDriver, created: list[VmSpec]):
    vm = created[4]
    driver.update_vm(replace(vm, mac="BC:24:11:AA:BB:CC"), driver.vm_config(vm.node, vm.vmid))
    assert driver.vm_config(vm.node, vm.vmid)["net0"] == "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0"


def test_the_spec_tag_is_written_only_once_the_vm_runs_the_spec(
    driver: ProxmoxDriver, created: list[VmSpec], twin_state: ProxmoxTwinState
):
    vm = created[1]
    driver.start_vm(vm.node, vm.vmid)
    bigger = replace(vm, memory=8192, spec_hash="bbbb1111")
    assert driver.update_vm(bigger, driver.vm_config(vm.node, vm.vmid)) is True
    tag = {v.vmid: v for v in driver.list_vms()}[vm.vmid].spec_hash
    assert tag == vm.spec_hash, "the memory waits for a reboot: the tag still names the spec the VM runs"
    # An interrupted run's successor: nothing left to send, the pending memory is still reported.
    twin_state.calls.reset()
    assert driver.update_vm(bigger, driver.vm_config(vm.node, vm.vmid)) is True
    assert twin_state.calls.matching("POST", "*/config") == []
    driver.reboot_vm(vm.node, vm.vmid)
    assert driver.update_vm(bigger, driver.vm_config(vm.node, vm.vmid)) is False
    assert {v.vmid: v for v in driver.list_vms()}[vm.vmid].spec_hash == "bbbb1111"


def test_a_pending_option_the_runner_does_not_set_is_not_its_reboot(driver: ProxmoxDriver, created: list[VmSpec], api):
    vm = created[1]
    driver.start_vm(vm.node, vm.vmid)
    assert api.request("PUT", "/nodes/atlas/qemu/301/config", sockets=2).status_code == 200  # by hand, in the UI
    assert driver.update_vm(replace(vm, spec_hash="cccc2222"), driver.vm_config(vm.node, vm.vmid)) is False
    assert {v.vmid: v for v in driver.list_vms()}[vm.vmid].spec_hash == "cccc2222"
