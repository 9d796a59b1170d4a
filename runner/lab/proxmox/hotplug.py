"""Which changes a running VM takes at once and which wait in `[PENDING]` for its next start.

As qemu-server's `vmconfig_hotplug_pending` (src/PVE/QemuServer.pm): fast-plug options always apply; the
rest only through a hotplug feature of the VM's own `hotplug` option (default `network,disk,usb`), or by a
rule of their own (agent, balloon, cpuunits, ...). Every other option (cores, cpu, sockets, machine, bios,
memory without memory hotplug, ...) is "skip": it stays pending until a start or a reboot applies it.
"""

from __future__ import annotations

from runner.lab.proxmox.vmconfig import is_drive

# qemu-server $fast_plug_option: no impact on the running guest, written at once.
FAST_PLUG = frozenset(
    {"description", "hookscript", "lock", "migrate_downtime", "migrate_speed", "name", "onboot", "protection"}
    | {"shares", "startup", "tags", "vmstatestorage"}
)
DEFAULT_HOTPLUG = "network,disk,usb"  # $confdesc->{hotplug}->{default}
_NET_REPLUG = ("model", "macaddr", "queues", "mtu")  # vmconfig_update_net: these need the NIC re-plugged
_NO_LIVE_DELETE = ("efidisk", "ide", "sata", "tpmstate")


def features(config: dict[str, str]) -> frozenset[str]:
    """parse_hotplug_features: '0' is none, '1' (or unset) the default list."""
    value = config.get("hotplug", "1")
    if value == "0":
        return frozenset()
    return frozenset(f for f in (DEFAULT_HOTPLUG if value == "1" else value).split(",") if f)


def _properties(value: str, default_key: str) -> dict[str, str]:
    """A property string ('1,fstrim_cloned_disks=1'); a bare first part is `default_key`."""
    out: dict[str, str] = {}
    for part in filter(None, value.split(",")):
        key, sep, val = part.partition("=")
        out.update({key: val} if sep else {default_key: key})
    return out


def _net(value: str) -> dict[str, str]:
    """A NIC as the twin stores it (normalised by print_net: `<model>=<mac>` first)."""
    first, _, rest = value.partition(",")
    model, _, mac = first.partition("=")
    return {**_properties(rest, "model"), "model": model, "macaddr": mac}


def applies_live(option: str, value: str, config: dict[str, str]) -> bool:
    """Whether setting `option` to `value` on a running VM is hot-plugged (else it stays pending)."""
    have = features(config)
    old = config.get(option)
    if option in FAST_PLUG:
        return True
    if option == "hotplug":
        return not any(f in value or f in config.get("hotplug", "") for f in ("memory", "cpu"))
    if option == "tablet":
        return "usb" in have
    if option.startswith("usb") and option[3:].isdigit():
        return "usb" in have and config.get("ostype", "") in ("l26", "win8", "win10", "win11")
    if option == "vcpus":
        return "cpu" in have
    if option == "balloon":  # enabling or disabling the balloon device is not hot-pluggable
        return (config.get("balloon", "1") != "0") == (value != "0")
    if option.startswith("net") and option[3:].isdigit():
        if old is None:
            return "network" in have
        before, after = _net(old), _net(value)
        bridged = bool(before.get("bridge") and after.get("bridge"))
        replug = any(before.get(k) != after.get(k) for k in _NET_REPLUG) or not bridged
        return "network" in have or not replug
    if is_drive(option):
        return option not in ("efidisk0", "tpmstate0") and "disk" in have
    if option == "memory":
        return "memory" in have
    if option in ("cpuunits", "cpulimit"):
        return True
    if option == "agent":  # vmconfig_update_agent: only fstrim_cloned_disks changes live
        if not old:
            return False
        before, after = _properties(old, "enabled"), _properties(value, "enabled")
        keys = (set(before) | set(after)) - {"fstrim_cloned_disks"}
        return all(before.get(k) == after.get(k) for k in keys)
    return False


def deletes_live(option: str, config: dict[str, str]) -> bool:
    """Whether deleting `option` on a running VM happens at once (else it is a pending delete)."""
    have = features(config)
    if option in FAST_PLUG or option in ("cpuunits", "cpulimit"):
        return True
    if option == "hotplug":
        return not any(f in config.get("hotplug", "") for f in ("memory", "cpu"))
    if option == "tablet":
        return "usb" in have
    if option.startswith("usb") and option[3:].isdigit():
        return "usb" in have and config.get("ostype", "") in ("l26", "win8", "win10", "win11")
    if option == "vcpus":
        return "cpu" in have
    if option == "balloon":
        return config.get("balloon") != "0"
    if option.startswith("net") and option[3:].isdigit():
        return "network" in have
    if is_drive(option):
        return "disk" in have and not option.startswith(_NO_LIVE_DELETE)
    if option == "memory":
        return "memory" in have
    return False
