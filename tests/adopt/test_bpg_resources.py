"""The operator's Proxmox resources as the bpg/proxmox provider (v0.111.1) sends them to the PVE API: checked
without a lab (the foreign fixture sends the same calls to the Proxmox twin)."""

from __future__ import annotations

from tests.adopt import bpg


def test_a_vm_resource_is_one_create_with_the_providers_defaults_then_a_resize() -> None:
    tf = bpg.resources(factory="https://factory.example", talos_version="v1.11.6")
    (cp01,) = [vm for vm in tf["vms"] if vm["name"] == "talos-cp-01"]
    volid = "local:import/talos-cp-01-talos-v1.11.6-metal-amd64.qcow2"
    assert bpg.vm_create_params(cp01, volid) == {
        "vmid": 300,
        "name": "talos-cp-01",
        "acpi": 1,
        "agent": "enabled=1,fstrim_cloned_disks=0,type=virtio",
        "balloon": 0,
        "bios": "ovmf",
        "boot": "order=scsi0;net0",
        "cores": 4,
        "cpu": "host",
        "efidisk0": "file=local-lvm:1,format=raw,efitype=4m,pre-enrolled-keys=0",
        "keyboard": "en-us",
        "machine": "q35",
        "memory": 8192,
        "net0": "model=virtio,bridge=vmbr0,firewall=0",  # no macaddr: Proxmox picks the MAC
        "numa": 0,
        "onboot": 1,
        "ostype": "l26",
        "protection": 0,
        "scsi0": f"file=local-lvm:0,import-from={volid},size=68719476736,aio=io_uring,backup=1,iothread=1,"
        "discard=on,cache=none,replicate=1",
        "scsihw": "virtio-scsi-single",
        "sockets": 1,
        "tablet": 1,
        "template": 0,
    }  # and no tags: nothing marks the VM as anyone's
    assert bpg.resizes(cp01) == [{"disk": "scsi0", "size": "64G"}]


def test_the_image_download_is_the_factory_image_of_the_nodes_schematic() -> None:
    tf = bpg.resources(factory="https://factory.example", talos_version="v1.13.9")
    values = {"schematic_id": "6257b297", "name": "talos-worker-02"}
    assert bpg.download_params(tf["download_file"], **values) == (
        "atlas",
        "local",
        {
            "url": "https://factory.example/image/6257b297/v1.13.9/metal-amd64.qcow2",
            "content": "import",
            "filename": "talos-worker-02-talos-v1.13.9-metal-amd64.qcow2",
        },
    )
    assert (
        bpg.download_id(tf["download_file"], **values) == "local:import/talos-worker-02-talos-v1.13.9-metal-amd64.qcow2"
    )
