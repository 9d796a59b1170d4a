"""From an empty node to the five reference VMs, over proxmoxer against the twin."""

from __future__ import annotations

from runner.core.state import MANAGED_TAG, ImageSpec, VmSpec
from runner.drivers.proxmox import ProxmoxDriver, vm_config_diff
from runner.lab.proxmox import ProxmoxTwinState

GIB = 1024**3


def test_image_download_lands_in_import_content(driver: ProxmoxDriver, reference: tuple[ImageSpec, list[VmSpec]]):
    image, _ = reference
    assert driver.list_images("atlas", "local") == frozenset()
    driver.download_image(image)
    assert driver.list_images("atlas", "local") == {"local:import/talos-376567988ad3-v1.11.2-metal-amd64.qcow2"}


def test_five_reference_vms_created_from_empty(driver: ProxmoxDriver, created: list[VmSpec]):
    observed = {vm.vmid: vm for vm in driver.list_vms()}
    assert sorted(observed) == [300, 301, 302, 303, 304]
    for spec in created:
        vm = observed[spec.vmid]
        assert vm.name == spec.name
        assert vm.status == "stopped"
        assert vm.managed
        assert vm.spec_hash == spec.spec_hash
        assert vm.maxmem == spec.memory * 1024 * 1024
        assert vm.maxcpu == spec.cores
        assert vm.maxdisk == spec.disk_gb * GIB


def test_created_config_matches_spec(driver: ProxmoxDriver, created: list[VmSpec]):
    spec = created[0]
    config = driver.vm_config("atlas", spec.vmid)
    assert vm_config_diff(spec, config) == {}
    assert config["machine"] == "q35"
    assert config["bios"] == "ovmf"
    assert config["efidisk0"].startswith("local-lvm:vm-300-disk-1,efitype=4m,pre-enrolled-keys=0")
    assert config["scsi0"] == "local-lvm:vm-300-disk-0,discard=on,iothread=1,size=32G"
    assert config["net0"] == "virtio=BC:24:11:00:03:00,bridge=vmbr0"
    assert config["tags"] == f"cluster-home;{MANAGED_TAG};role-worker;spec-{spec.spec_hash}"
    assert config["boot"] == "order=scsi0"
    assert (config["serial0"], config["vga"], config["ostype"]) == ("socket", "serial0", "l26")
    assert len(config["digest"]) == 40


def test_created_disks_are_allocated_on_the_vm_storage(created: list[VmSpec], twin_state: ProxmoxTwinState):
    volumes = twin_state.storages["local-lvm"].volumes
    assert {v for v in volumes if v.startswith("local-lvm:vm-303-")} == {
        "local-lvm:vm-303-disk-0",
        "local-lvm:vm-303-disk-1",
    }
    assert volumes["local-lvm:vm-303-disk-0"].size == 64 * GIB


def test_start_all_and_observe_running(driver: ProxmoxDriver, created: list[VmSpec]):
    for vm in created:
        driver.start_vm(vm.node, vm.vmid)
    assert {vm.status for vm in driver.list_vms()} == {"running"}
