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
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

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


def needs(node: str, storage: str, image_storage: str, bridge: str, vmids: Iterable[int]) -> list[Need]:
    """Every privilege an apply of this cluster may use, in the order a person would check them."""
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
    return found


def role_privileges() -> list[str]:
    """The privileges of the role the README creates: exactly those `needs` names."""
    names = {n.privilege for n in needs("node", "a", "b", "vmbr0", [100])}
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
