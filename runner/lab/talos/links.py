"""Which network links a simulated Talos node has, named the way Talos names them on a Proxmox VM.

Talos >= 1.5 renames interfaces predictably, as systemd's udev does, unless the kernel command line has
`net.ifnames=0`; then the kernel's own `eth0` stays (Talos docs, "Predictable Interface Names", v1.11).
Proxmox puts `net0` at PCI slot 18 (0x12) of its `pci.0` bus (qemu-server PVE/QemuServer/PCI.pm,
`net0 => { bus => 0, addr => 18 }`). On i440fx (`pc`) that is the root bus with ACPI hotplug slots, so
udev's slot name wins: `ens18`. On q35, `pci.0` is a PCI bridge behind the DMI bridge, which the guest
enumerates as bus 6, so the path name is used: `enp6s18`. (systemd.net-naming-scheme: `s<slot>` for hotplug
slots, else `p<bus>s<slot>`.)

An address (from META 0xa or the machine config) on a link the node does not have is never brought up.
"""

from __future__ import annotations

from collections.abc import Iterable

LEGACY_NAMES = "net.ifnames=0"


def nic_names(kernel_args: Iterable[str], machine: str, nics: int = 1) -> tuple[str, ...]:
    """The names of a VM's virtio NICs (net0, net1, ...) as the booted Talos kernel + udev gives them."""
    if LEGACY_NAMES in set(kernel_args):
        return tuple(f"eth{i}" for i in range(nics))
    q35 = machine.startswith("q35") or "q35" in machine
    return tuple(f"enp6s{18 + i}" if q35 else f"ens{18 + i}" for i in range(nics))
