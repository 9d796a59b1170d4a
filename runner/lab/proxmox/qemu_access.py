"""The privilege checks qemu-server makes inside its handlers (beyond the endpoint's apidata `permissions`).

From qemu-server `src/PVE/API2/Qemu.pm` (9.2.6): create_vm needs VM.Allocate on /vms/{vmid} (a bare
"Permission check failed" when missing), Datastore.AllocateSpace on every storage a new disk lands on,
read access to an `import-from` source volume, a VM.Config.* privilege per option
($check_vm_modify_config_perm), VM.Config.HWType for a serial socket, and SDN.Use on
/sdn/zones/localnetwork/<bridge> for every NIC (PVE::GuestHelpers::check_vnet_access).
"""

from __future__ import annotations

import re
from typing import Any

from runner.lab.proxmox.access import AccessControl, perm_error
from runner.lab.proxmox.errors import PveError
from runner.lab.proxmox.vmconfig import NEW_DISK_RE, is_drive, split_drive

_GROUPS = {
    "VM.Config.CPU": {"cores", "cpu", "runningcpu", "cpulimit", "cpuunits", "numa", "smp", "sockets", "vcpus"},
    "VM.Config.Memory": {"memory", "balloon", "shares", "allow-ksm"},
    "VM.Config.HWType": {
        "acpi", "hotplug", "kvm", "machine", "runningmachine", "scsihw", "smbios1", "tablet", "vga", "watchdog",
        "audio0", "rng0",
    },
    "VM.Config.Options": {
        "agent", "autostart", "bios", "description", "keyboard", "localtime", "migrate_downtime", "migrate_speed",
        "name", "onboot", "ostype", "protection", "reboot", "startdate", "startup", "tdf", "template",
    },
    "VM.PowerMgmt": {"freeze"},
    "VM.Config.Disk": {"boot", "bootdisk", "vmstatestorage"},
    "VM.Config.Cloudinit": {"cicustom", "cipassword", "citype", "ciuser", "ciupgrade", "nameserver", "searchdomain",
                            "sshkeys"},
}  # fmt: skip
_SKIPPED = re.compile(r"^(?:unused|serial|usb|hostpci|virtiofs)\d+$|^(?:cdrom|tags)$")


def _option_privilege(option: str) -> str:
    for priv, options in _GROUPS.items():
        if option in options:
            return priv
    if re.fullmatch(r"numa\d+", option):
        return "VM.Config.CPU"
    if re.fullmatch(r"net\d+", option):
        return "VM.Config.Network"
    if re.fullmatch(r"ipconfig\d+", option):
        return "VM.Config.Cloudinit"
    raise PveError(f"only root can set '{option}' config")


def check_options(acl: AccessControl, user: str, vmid: int, options: list[str]) -> None:
    """$check_vm_modify_config_perm (sorted, where Perl walks a hash)."""
    for option in sorted(options):
        if is_drive(option) or _SKIPPED.match(option):
            continue
        acl.check(user, f"/vms/{vmid}", [_option_privilege(option)])


def check_storage_access(acl: AccessControl, user: str, drives: dict[str, str], vmid: int = 0) -> None:
    """$check_storage_access: new disks need AllocateSpace; an import source needs read access; an existing
    disk of another VM (a CSI volume `vm-9999-...` attached to a node's VM) needs check_volume_access."""
    for option in sorted(drives):
        file, opts = split_drive(drives[option])
        if (match := NEW_DISK_RE.match(file)) and match.group(2):
            acl.check(user, f"/storage/{match.group(2)}", ["Datastore.AllocateSpace"])
        elif owner := OWNED_VOLUME_RE.match(file):
            _check_volume_access(acl, user, vmid, owner.group(1), int(owner.group(2)))
        if source := opts.get("import-from"):
            storage = source.partition(":")[0]
            # PVE::Storage::check_volume_access for an `import` volume
            if not acl.has(user, f"/storage/{storage}", ["Datastore.Allocate"]):
                acl.check(user, f"/storage/{storage}", ["Datastore.AllocateSpace", "Datastore.Audit"], any_=True)


OWNED_VOLUME_RE = re.compile(r"^([^:/\s]+):(?:\d+/)?(?:vm|base)-(\d+)-")


def _check_volume_access(acl: AccessControl, user: str, vmid: int, storage: str, owner: int) -> None:
    """PVE::Storage::check_volume_access (pve-storage 9.1.7 src/PVE/Storage.pm) for an `images` volume:
    Datastore.Allocate on its storage is enough; its owner VM may use it; anyone else needs Datastore.Audit on
    the storage and VM.Config.Disk on the owner VM."""
    if acl.has(user, f"/storage/{storage}", ["Datastore.Allocate"]) or owner == vmid:
        return
    acl.check(user, f"/storage/{storage}", ["Datastore.Audit"])
    acl.check(user, f"/vms/{owner}", ["VM.Config.Disk"])


def check_bridges(acl: AccessControl, user: str, options: dict[str, Any]) -> None:
    """check_bridge_access: SDN.Use on the bridge (or the VLAN tag below it) of every NIC."""
    for option in sorted(o for o in options if re.fullmatch(r"net\d+", o)):
        _, net = split_drive(str(options[option]))
        if bridge := net.get("bridge"):
            tag = net.get("tag")
            acl.check(user, f"/sdn/zones/localnetwork/{bridge}" + (f"/{tag}" if tag else ""), ["SDN.Use"])


def check_create(acl: AccessControl, user: str, vmid: int, options: dict[str, Any], start: bool) -> None:
    if start:
        acl.check(user, f"/vms/{vmid}", ["VM.PowerMgmt"])
    if not acl.has(user, f"/vms/{vmid}", ["VM.Allocate"]):
        raise perm_error()  # qemu-server raises it bare: no path, no privilege in the text
    check_storage_access(acl, user, {o: str(v) for o, v in options.items() if is_drive(o)}, vmid)
    check_options(acl, user, vmid, list(options))
    if any(re.fullmatch(r"serial\d+", o) for o in options):
        acl.check(user, f"/vms/{vmid}", ["VM.Config.HWType"])
    check_bridges(acl, user, options)


def check_update(acl: AccessControl, user: str, vmid: int, changes: dict[str, str], deletes: list[str]) -> None:
    check_options(acl, user, vmid, deletes)
    check_options(acl, user, vmid, list(changes))
    drives = {o: v for o, v in changes.items() if is_drive(o)}
    if drives:
        acl.check(user, f"/vms/{vmid}", ["VM.Config.Disk"])
    check_storage_access(acl, user, drives, vmid)
    check_bridges(acl, user, changes)
    if "tags" in changes or "tags" in deletes:
        acl.check(user, f"/vms/{vmid}", ["VM.Config.Options"])  # assert_tag_permissions
