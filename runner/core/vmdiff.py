"""What differs between a VM as specified and as Proxmox reports it, and whether it needs a reboot."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from runner.core.state import ObservedVm, VmSpec

MIB = 1024 * 1024
GIB = 1024 * MIB
_SIZE_RE = re.compile(r"size=(\d+)([KMGT]?)")
_UNITS = {"": 1, "K": 1024, "M": MIB, "G": GIB, "T": 1024 * GIB}
# The PVE options the runner sets on a VM, and the change each one carries (the disk is resized, not set).
MANAGED_OPTIONS = {
    "name": "name",
    "memory": "memory",
    "cores": "cores",
    "cpu": "cpu",
    "net0": "mac",
    "agent": "agent",
    "onboot": "onboot",
    "tags": "tags",
}


@dataclass(frozen=True)
class VmChange:
    field: str
    old: str
    new: str
    needs_reboot: bool  # PVE without memory/CPU hotplug applies these on the next boot only
    pending: bool = False  # sent already: Proxmox holds the new value until the VM starts again


def managed_pending(pending: Mapping[str, str] | None) -> dict[str, str]:
    """The pending options (GET .../pending) that are the runner's own: only these make it reboot a VM."""
    return {option: value for option, value in (pending or {}).items() if option in MANAGED_OPTIONS}


def _memory(text: str) -> int:
    # `memory` is a property string since PVE 8.1 ("4096" or "current=4096")
    return int(text.rsplit("=", 1)[-1])


def _pending_changes(observed: ObservedVm, seen: set[str]) -> list[VmChange]:
    """Values a run sent that wait for a reboot: the config (pending applied) matches the spec, the guest not."""
    changes = []
    for option, value in sorted(managed_pending(observed.pending).items()):
        field = MANAGED_OPTIONS[option]
        if field in seen:
            continue  # the spec differs from the pending value too: the update replaces it
        if option == "memory" and value:
            old, new = f"{observed.maxmem // MIB} MiB", f"{_memory(value)} MiB"
        elif option == "cores" and value:
            old, new = str(observed.maxcpu), value
        else:
            old, new = "now", value or "(deleted)"
        changes.append(VmChange(field, old, new, needs_reboot=True, pending=True))
    return changes


def _disk_bytes(config: dict[str, str]) -> int | None:
    match = _SIZE_RE.search(config.get("scsi0", ""))
    return int(match.group(1)) * _UNITS[match.group(2)] if match else None


def _mac(config: dict[str, str]) -> str | None:
    net = config.get("net0", "")
    first = net.split(",")[0]
    return first.split("=", 1)[1].upper() if "=" in first else None


def vm_changes(vm: VmSpec, observed: ObservedVm) -> list[VmChange]:
    """Differences that matter, from the VM config when fetched, else from /cluster/resources fields; then
    the runner's options Proxmox holds pending (they need a reboot even where the config matches)."""
    cfg = observed.config
    changes: list[VmChange] = []
    memory = _memory(cfg["memory"]) if cfg and "memory" in cfg else observed.maxmem // MIB
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
    changes += _pending_changes(observed, {c.field for c in changes})
    if observed.spec_hash != vm.spec_hash:
        changes.append(VmChange("tags", observed.spec_hash or "-", vm.spec_hash, needs_reboot=False))
    return changes


def resources_disagree(vm: VmSpec, observed: ObservedVm) -> bool:
    """What /cluster/resources shows (the memory and CPUs the guest runs with) is not the spec: a change left
    pending, or one made outside. Worth reading the config even when the spec tag says all is applied."""
    return observed.maxmem // MIB != vm.memory or observed.maxcpu != vm.cores
