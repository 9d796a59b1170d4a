"""The operator's Proxmox resources (tests/data/adopt/terraform/vms.yaml) turned into the PVE API calls the
bpg/proxmox provider (v0.111.1) makes for them, without the runner's code.

`proxmox_virtual_environment_vm` create (proxmoxtf/resource/vm/vm.go vmCreateCustom): one POST
/nodes/{node}/qemu with the provider's defaults for what the resource leaves out, encoded as
proxmox/nodes/vms/custom_*.go EncodeValues write them; a disk with `import_from` goes in that POST as
`file=<datastore>:0,import-from=<volid>,size=<bytes>,...` (custom_storage_device.go), then a resize to its size;
then a start (`started`, default true). `proxmox_virtual_environment_download_file`: POST
/nodes/{node}/storage/{datastore}/download-url.
"""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

from ruamel.yaml import YAML

VMS = Path(__file__).parents[1] / "data/adopt/terraform/vms.yaml"


def _flag(value: object) -> int:
    return 1 if value else 0


def resources(**values: str) -> dict[str, Any]:
    """vms.yaml with the template values (factory, talos_version) filled in; ${image} etc. stay per node."""
    text = Template(VMS.read_text()).safe_substitute(values)
    return dict(YAML(typ="safe", pure=True).load(text))


def download_params(download: dict[str, Any], **node_values: str) -> tuple[str, str, dict[str, str]]:
    """(node, datastore, form) of the download-url call for one node's image."""
    url = Template(download["url"]).substitute(node_values)
    name = Template(download["file_name"]).substitute(node_values)
    form = {"url": url, "content": download["content_type"], "filename": name}
    return download["node_name"], download["datastore_id"], form


def download_id(download: dict[str, Any], **node_values: str) -> str:
    """The resource's id: `<datastore>:<content>/<file_name>` (the volid import_from refers to)."""
    name = Template(download["file_name"]).substitute(node_values)
    return f"{download['datastore_id']}:{download['content_type']}/{name}"


def _disk(disk: dict[str, Any], image: str) -> str:
    # vms.CustomStorageDevice.EncodeValues, then EncodeOptions (aio, backup, iothread, ssd, discard, cache,
    # replicate); disk defaults: aio io_uring, backup and replicate true, cache none, discard ignore.
    source = Template(disk["import_from"]).substitute(image=image)
    values = [f"file={disk['datastore_id']}:0", f"import-from={source}", f"size={int(disk['size']) * 1024**3}"]
    values += [f"aio={disk.get('aio', 'io_uring')}", f"backup={_flag(disk.get('backup', True))}"]
    if disk.get("iothread"):
        values.append("iothread=1")
    if disk.get("ssd"):
        values.append("ssd=1")
    values += [f"discard={disk.get('discard', 'ignore')}", f"cache={disk.get('cache', 'none')}"]
    values.append(f"replicate={_flag(disk.get('replicate', True))}")
    return ",".join(values)


def _nic(nic: dict[str, Any]) -> str:
    # vms.CustomNetworkDevice.EncodeValues: macaddr only when the resource sets mac_address.
    values = [f"model={nic.get('model', 'virtio')}", f"bridge={nic.get('bridge', 'vmbr0')}"]
    values.append(f"firewall={_flag(nic.get('firewall', False))}")
    if nic.get("mac_address"):
        values.append(f"macaddr={nic['mac_address']}")
    return ",".join(values)


def vm_create_params(vm: dict[str, Any], image: str) -> dict[str, Any]:
    """The POST /nodes/{node}/qemu form of one resource (image: the volid its disk imports)."""
    cpu, memory, agent = vm.get("cpu", {}), vm.get("memory", {}), vm.get("agent", {})
    params: dict[str, Any] = {
        "vmid": vm["vm_id"],
        "acpi": _flag(vm.get("acpi", True)),
        "agent": f"enabled={_flag(agent.get('enabled', False))},fstrim_cloned_disks="
        f"{_flag(agent.get('trim', False))},type={agent.get('type', 'virtio')}",
        "bios": vm.get("bios", "seabios"),
        "cores": cpu.get("cores", 1),
        "cpu": cpu.get("type", "qemu64"),
        "sockets": cpu.get("sockets", 1),
        "numa": _flag(cpu.get("numa", False)),
        "memory": memory.get("dedicated", 512),
        "balloon": memory.get("floating", 0),
        "protection": _flag(vm.get("protection", False)),
        "keyboard": vm.get("keyboard_layout", "en-us"),
        "ostype": vm.get("operating_system", {}).get("type", "other"),
        "scsihw": vm.get("scsi_hardware", "virtio-scsi-pci"),
        "onboot": _flag(vm.get("on_boot", True)),
        "tablet": _flag(vm.get("tablet_device", True)),
        "template": 0,
    }
    efi = vm.get("efi_disk")
    if efi is not None:  # vmGetEfiDisk: <datastore>:1, raw unless file_format says otherwise
        params["efidisk0"] = (
            f"file={efi.get('datastore_id', 'local-lvm')}:1,format={efi.get('file_format', 'raw')},"
            f"efitype={efi.get('type', '2m')},pre-enrolled-keys={_flag(efi.get('pre_enrolled_keys', False))}"
        )
    order = []
    for disk in vm.get("disk", []):
        params[disk.get("interface", "scsi0")] = _disk(disk, image)
        order.append(disk.get("interface", "scsi0"))
    for index, nic in enumerate(vm.get("network_device", [])):
        params[f"net{index}"] = _nic(nic)
    if vm.get("network_device"):
        order.append("net0")
    params["boot"] = f"order={';'.join(order)}"  # the default boot order: the disks, then net0
    if vm.get("machine"):
        params["machine"] = vm["machine"]
    if vm.get("name"):
        params["name"] = vm["name"]
    if vm.get("tags"):
        params["tags"] = ";".join(sorted(vm["tags"]))
    return params


def resizes(vm: dict[str, Any]) -> list[dict[str, str]]:
    """The resize after create of every imported disk, to the resource's size in GiB."""
    return [{"disk": d.get("interface", "scsi0"), "size": f"{d['size']}G"} for d in vm.get("disk", [])]
