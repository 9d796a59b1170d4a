"""What differs between a VM as specified and as Proxmox reports it, and whether it needs a reboot."""

from __future__ import annotations

import re
from dataclasses import dataclass

from runner.core.state import ObservedVm, VmSpec

MIB = 1024 * 1024
GIB = 1024 * MIB
_SIZE_RE = re.compile(r"size=(\d+)([KMGT]?)")
_UNITS = {"": 1, "K": 1024, "M": MIB, "G": GIB, "T": 1024 * GIB}


@dataclass(frozen=True)
class VmChange:
    field: str
    old: str
    new: str
    needs_reboot: bool  # PVE without memory/CPU hotplug applies these on the next boot only


def _disk_bytes(config: dict[str, str]) -> int | None:
    match = _SIZE_RE.search(config.get("scsi0", ""))
    return int(match.group(1)) * _UNITS[match.group(2)] if match else None


def _mac(config: dict[str, str]) -> str | None:
    net = config.get("net0", "")
    first = net.split(",")[0]
    return first.split("=", 1)[1].upper() if "=" in first else None


def vm_changes(vm: VmSpec, observed: ObservedVm) -> list[VmChange]:
    """Differences that matter, from the VM config when fetched, else from /cluster/resources fields."""
    cfg = observed.config
    changes: list[VmChange] = []
    memory = int(cfg["memory"]) if cfg and "memory" in cfg else observed.maxmem // MIB
    if memory != vm.memory:
        changes.append(VmChange("memory", f"{memory} MiB", f"{vm.memory} MiB", needs_reboot=True))
    cores = int(cfg["cores"]) if cfg and "cores" in cfg else observed.maxcpu
    if cores != vm.cores:
        changes.append(VmChange("cores", str(cores), str(vm.cores), needs_reboot=True))
    disk = (_disk_bytes(cfg) if cfg else None) or observed.maxdisk
    if disk and disk != vm.disk_gb * GIB:
        changes.append(VmChange("disk", f"{disk // GIB} GiB", f"{vm.disk_gb} GiB", needs_reboot=False))
    if cfg is not None:
        mac = _mac(cfg)
        if mac and mac != vm.mac.upper():
            changes.append(VmChange("mac", mac, vm.mac.upper(), needs_reboot=True))
        onboot = cfg.get("onboot", "0") in ("1", 1)
        if onboot != vm.onboot:
            changes.append(VmChange("onboot", str(int(onboot)), str(int(vm.onboot)), needs_reboot=False))
    if observed.spec_hash != vm.spec_hash:
        changes.append(VmChange("tags", observed.spec_hash or "-", vm.spec_hash, needs_reboot=False))
    return changes
