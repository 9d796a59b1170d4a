"""A VM someone else created, against the VM the spec describes: what differs, and what adoption must refuse.

`machine`, `bios` and `scsihw` change the virtual hardware a Talos install booted on (firmware, chipset, disk
controller): changing them under a running node is a rebuild, not an adoption. The MAC is the node's identity on
the network (and what DHCP reservations and META-less images key on); one the spec does not pin would be replaced
by the runner's deterministic MAC. Sizes (cores, memory, disk) are ordinary differences the plan would apply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from runner.core.state import VmSpec

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def _options(value: str, default_key: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, value.split(",")):
        key, sep, val = part.partition("=")
        out[key if sep else default_key] = val if sep else part
    return out


def _machine(value: str) -> str:
    """PVE's versioned machine types (pc-q35-8.1, pc-i440fx-9.0) are the same chipset as q35 / pc."""
    if value.startswith("pc-q35") or value == "q35":
        return "q35"
    if value.startswith("pc-i440fx") or value in ("", "pc"):
        return "pc"
    return value


def _disk_gb(config: Mapping[str, str]) -> int:
    size = _options(config.get("scsi0", ""), "file").get("size", "0")
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)", size)
    return int(float(match.group(1)) * _UNITS[match.group(2)]) // 1024**3 if match else 0


def _mac(config: Mapping[str, str]) -> str:
    nic = _options(config.get("net0", ""), "model")
    skip = ("bridge", "firewall", "mtu", "tag", "rate", "queues", "link_down")
    return next((v for k, v in nic.items() if k not in skip), "").upper()


def vm_differences(vm: VmSpec, config: Mapping[str, str], mac_pinned: bool = True) -> tuple[list[str], list[str]]:
    """(differences the plan may apply, refusals) of a VM's config against the spec."""
    changes: list[str] = []
    refusals: list[str] = []

    def differs(field: str, live: object, wanted: object) -> bool:
        if str(live) != str(wanted):
            changes.append(f"{field}: {live} → {wanted}")
            return True
        return False

    for field, live, wanted in (
        ("machine", _machine(config.get("machine", "")), _machine(vm.machine)),
        ("bios", config.get("bios", "seabios"), vm.bios),
        ("scsihw", config.get("scsihw", "lsi"), vm.scsihw),
    ):
        if differs(field, live, wanted):
            refusals.append(f"VM {vm.vmid} ({vm.name}): {field} is {live}, the spec says {wanted}")
    differs("name", config.get("name", ""), vm.name)
    differs("cores", config.get("cores", "1"), vm.cores)
    differs("memory", _options(config.get("memory", "512"), "current").get("current", "512"), vm.memory)
    differs("cpu", _options(config.get("cpu", "kvm64"), "cputype").get("cputype", "kvm64"), vm.cpu_type)
    differs("bridge", _options(config.get("net0", ""), "model").get("bridge", ""), vm.bridge)
    differs("onboot", config.get("onboot", "0"), 1 if vm.onboot else 0)
    differs("agent", _options(config.get("agent", "0"), "enabled").get("enabled", "0"), 1 if vm.agent else 0)
    if _disk_gb(config) < vm.disk_gb:
        changes.append(f"disk: {_disk_gb(config)} GiB → {vm.disk_gb} GiB (grows)")
    mac = _mac(config)
    if differs("mac", mac, vm.mac.upper()):
        refusals.append(
            f"VM {vm.vmid} ({vm.name}): MAC {mac} is not the spec's {vm.mac.upper()}"
            if mac_pinned
            else f"VM {vm.vmid} ({vm.name}): MAC {mac} is not pinned in the spec (nodes[].mac); the runner would "
            f"give the node {vm.mac.upper()}"
        )
    return changes, refusals


def mac_of(config: Mapping[str, str]) -> str:
    return _mac(config)
