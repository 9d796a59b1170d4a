"""Pure helpers: the PVE parameters for a VmSpec, and the difference between a VmSpec and a PVE config."""

from __future__ import annotations

import re

from runner.core.state import VmSpec

GIB = 1024**3
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def _flag(value: bool) -> int:
    # PVE booleans are 1/0; "True"/"true" is a type error there
    return 1 if value else 0


def create_params(vm: VmSpec) -> dict[str, str | int]:
    """Parameters of POST /nodes/{node}/qemu for a VM whose disk is imported from the Talos image."""
    params: dict[str, str | int] = {
        "vmid": vm.vmid,
        "name": vm.name,
        "machine": vm.machine,
        "bios": vm.bios,
        "scsihw": vm.scsihw,
        "scsi0": f"{vm.storage}:0,import-from={vm.image.volid},discard=on,iothread=1",
        "net0": f"virtio={vm.mac},bridge={vm.bridge}",
        "cpu": vm.cpu_type,
        "cores": vm.cores,
        "memory": str(vm.memory),
        "agent": f"enabled={_flag(vm.agent)}",
        "onboot": _flag(vm.onboot),
        "tags": ";".join(vm.tags),
        "serial0": "socket",
        "vga": "serial0",
        "ostype": "l26",
        "boot": "order=scsi0",
    }
    if vm.bios == "ovmf":
        params["efidisk0"] = f"{vm.storage}:1,efitype=4m,pre-enrolled-keys=0"
    return params


def property_string(value: str, default_key: str) -> dict[str, str]:
    """'virtio=AA:..,bridge=vmbr0' -> {'virtio': 'AA:..', 'bridge': 'vmbr0'}; a bare first part is `default_key`."""
    parsed: dict[str, str] = {}
    for part in filter(None, value.split(",")):
        key, sep, val = part.partition("=")
        if sep:
            parsed[key] = val
        else:
            parsed[default_key] = part
    return parsed


def size_bytes(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)", text or "0")
    return int(float(match.group(1)) * _UNITS[match.group(2)]) if match else 0


def disk_gb(config: dict[str, str], disk: str = "scsi0") -> int:
    """Size of a disk in whole GiB (rounded down), from its `size=` option."""
    return size_bytes(property_string(config.get(disk, ""), "file").get("size", "0")) // GIB


def memory_mib(config: dict[str, str]) -> int:
    value = property_string(config.get("memory", "512"), "current").get("current", "512")
    return int(value)


def nic(config: dict[str, str]) -> tuple[str, str]:
    """(MAC, bridge) of net0, MAC upper-cased for comparison."""
    parsed = property_string(config.get("net0", ""), "model")
    mac = next((v for k, v in parsed.items() if k not in ("bridge", "firewall", "mtu", "tag", "rate", "queues")), "")
    return mac.upper(), parsed.get("bridge", "")


def config_tags(config: dict[str, str]) -> frozenset[str]:
    return frozenset(t.lower() for t in re.split(r"[;,\s]+", config.get("tags", "")) if t)


def vm_config_diff(vm: VmSpec, config: dict[str, str]) -> dict[str, tuple[str, str]]:
    """{field: (current, desired)} for every managed setting that differs.

    A disk smaller than the spec is a difference; a larger one is not (disks only grow).
    """
    diff: dict[str, tuple[str, str]] = {}

    def compare(name: str, current: object, desired: object) -> None:
        if current != desired:
            diff[name] = (str(current), str(desired))

    compare("name", config.get("name", ""), vm.name)
    compare("memory", memory_mib(config), vm.memory)
    compare("cores", int(config.get("cores", "1")), vm.cores)
    compare("cpu", property_string(config.get("cpu", "kvm64"), "cputype").get("cputype", "kvm64"), vm.cpu_type)
    mac, bridge = nic(config)
    compare("mac", mac, vm.mac.upper())
    compare("bridge", bridge, vm.bridge)
    compare("onboot", config.get("onboot", "0"), str(_flag(vm.onboot)))
    agent = property_string(config.get("agent", "0"), "enabled").get("enabled", "0")
    compare("agent", agent, str(_flag(vm.agent)))
    current_tags, desired_tags = config_tags(config), frozenset(vm.tags)
    if current_tags != desired_tags:
        diff["tags"] = (";".join(sorted(current_tags)), ";".join(sorted(desired_tags)))
    if disk_gb(config) < vm.disk_gb:
        diff["disk_gb"] = (str(disk_gb(config)), str(vm.disk_gb))
    return diff


def update_params(vm: VmSpec, diff: dict[str, tuple[str, str]]) -> dict[str, str | int]:
    """The POST .../config parameters that bring a VM's options to the spec (the disk is resized separately)."""
    params: dict[str, str | int] = {}
    if "name" in diff:
        params["name"] = vm.name
    if "memory" in diff:
        params["memory"] = str(vm.memory)
    if "cores" in diff:
        params["cores"] = vm.cores
    if "cpu" in diff:
        params["cpu"] = vm.cpu_type
    if "mac" in diff or "bridge" in diff:
        params["net0"] = f"virtio={vm.mac},bridge={vm.bridge}"
    if "onboot" in diff:
        params["onboot"] = _flag(vm.onboot)
    if "agent" in diff:
        params["agent"] = f"enabled={_flag(vm.agent)}"
    if "tags" in diff:
        params["tags"] = ";".join(vm.tags)
    return params
