"""Which PVE privileges the runner needs, on which ACL paths, and why (pure data, no I/O).

From the `permissions` of each endpoint in pve-docs `api-viewer/apidata.js` and the checks inside
qemu-server `PVE/API2/Qemu.pm` and pve-storage `PVE/API2/Storage/Status.pm`:

- reading VMs (/cluster/resources, .../config, /pending, /status/current): VM.Audit on /vms/{vmid};
  /cluster/resources silently leaves out VMs the token may not audit.
- POST /nodes/{node}/qemu: VM.Allocate on /vms/{vmid}; VM.Config.CPU/Memory/HWType/Options/Disk/Network
  for the options it sets; Datastore.AllocateSpace on the disk storage and on the import source's
  storage; SDN.Use on /sdn/zones/localnetwork/{bridge}.
- config updates and resize: the VM.Config.* of the options changed; Datastore.AllocateSpace on the disk's
  storage. Power (start/stop/shutdown/reboot): VM.PowerMgmt. DELETE: VM.Allocate.
- GET .../storage/{storage}/content: Datastore.Audit or Datastore.AllocateSpace on /storage/{storage}.
- POST .../storage/{storage}/download-url: Datastore.AllocateTemplate on /storage/{storage}, and
  Sys.AccessNetwork on /nodes/{node} (or both Sys.Audit and Sys.Modify on /).

The privilege names differ by release (pve-access-control `AccessControl.pm` `$privgroups`): PVE 9
(libpve-access-control 9.0.2/9.0.3) dropped VM.Monitor and added VM.GuestAgent.* and VM.Replicate, and
`pveum role add` refuses a name its release does not know. So the list is asked for per release: a
privilege is named only on the releases that have it. The runner uses neither the monitor nor the guest
agent, so today 8.4 and 9.x need the same list, and the README's one role works on both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

ROLE = "RunnerProvisioner"  # the role the README creates
# privilege -> (first release that has it, first release that no longer has it)
RELEASES: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "VM.Monitor": ((0, 0), (9, 0)),
    **dict.fromkeys(
        [
            "VM.GuestAgent.Audit",
            "VM.GuestAgent.FileRead",
            "VM.GuestAgent.FileSystemMgmt",
            "VM.GuestAgent.FileWrite",
            "VM.GuestAgent.Unrestricted",
            "VM.Replicate",
        ],
        ((9, 0), (99, 0)),
    ),
}
CURRENT_RELEASE = (9, 2)

VM_PRIVILEGES = (
    "VM.Allocate",
    "VM.Audit",
    "VM.Config.CPU",
    "VM.Config.Disk",
    "VM.Config.HWType",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.PowerMgmt",
)


@dataclass(frozen=True)
class Need:
    path: str
    privilege: str
    why: str
    # another (path, privileges) that PVE accepts instead, e.g. Sys.Audit + Sys.Modify on / for downloads
    instead: tuple[str, tuple[str, ...]] | None = None


def release_of(version: str) -> tuple[int, int]:
    """'9.2.11' -> (9, 2); what GET /version's `version` starts with."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if not match:
        raise ValueError(f"not a Proxmox VE version: {version!r}")
    return int(match.group(1)), int(match.group(2))


def exists_on(privilege: str, release: tuple[int, int]) -> bool:
    since, gone = RELEASES.get(privilege, ((0, 0), (99, 0)))
    return since <= release < gone


def needs(
    node: str,
    storage: str,
    image_storage: str,
    bridge: str,
    vmids: Iterable[int],
    release: tuple[int, int] = CURRENT_RELEASE,
) -> list[Need]:
    """Every privilege an apply of this cluster may use on `release`, in the order a person would check them."""
    found: list[Need] = []
    for vmid in sorted(set(vmids)):
        found += [Need(f"/vms/{vmid}", priv, f"manage VM {vmid}") for priv in VM_PRIVILEGES]
    found.append(Need(f"/storage/{storage}", "Datastore.AllocateSpace", "create and grow VM disks"))
    if image_storage != storage:
        found.append(Need(f"/storage/{image_storage}", "Datastore.AllocateSpace", "list and import the Talos image"))
    found.append(Need(f"/storage/{image_storage}", "Datastore.AllocateTemplate", "download the Talos image"))
    found.append(
        Need(
            f"/nodes/{node}",
            "Sys.AccessNetwork",
            "let the node download from the Image Factory",
            instead=("/", ("Sys.Audit", "Sys.Modify")),
        )
    )
    found.append(Need(f"/sdn/zones/localnetwork/{bridge}", "SDN.Use", f"attach NICs to {bridge}"))
    return [n for n in found if exists_on(n.privilege, release)]


def role_privileges(release: tuple[int, int] = CURRENT_RELEASE) -> list[str]:
    """The privileges of the role the README creates on `release`: exactly those `needs` names."""
    names = {n.privilege for n in needs("node", "a", "b", "vmbr0", [100], release)}
    return sorted(names, key=lambda p: (p.split(".")[0] != "VM", p.split(".")[0] != "Datastore", p))


_VMID_PATH = re.compile(r"^nodes/([^/]+)/qemu/(\d+)(/.*)?$")


def likely_need(method: str, path: str, params: dict[str, object]) -> Need | None:
    """What a call was most likely refused for, when PVE's 403 names no path (create_vm raises it bare)."""
    if method == "POST" and re.fullmatch(r"nodes/[^/]+/qemu", path) and "vmid" in params:
        return Need(f"/vms/{params['vmid']}", "VM.Allocate", "create the VM")
    if match := _VMID_PATH.match(path):
        vmid, rest = match.group(2), match.group(3) or ""
        if method == "DELETE" and not rest:
            return Need(f"/vms/{vmid}", "VM.Allocate", "delete the VM")
        if rest.startswith("/status/") and method == "POST":
            return Need(f"/vms/{vmid}", "VM.PowerMgmt", "power the VM")
    if match := re.fullmatch(r"nodes/([^/]+)/storage/([^/]+)/download-url", path):
        return Need(
            f"/nodes/{match.group(1)}",
            "Sys.AccessNetwork",
            "download the image",
            instead=("/", ("Sys.Audit", "Sys.Modify")),
        )
    return None
