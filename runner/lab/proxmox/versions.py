"""What changes between the PVE releases the twin can imitate (8.2, 8.3, 8.4, 9.x).

- JSON error bodies carry `message` only from pve-http-server 5.2.0 (commit 9a2112e, "fix #6503: return api
  handler errors in the json body", first shipped with PVE 8.4); before, the message is in the status line only.
- download-url accepts `content=import` from pve-storage 8.2.10 (commit 40df25d, OVA only, PVE 8.3) and
  `.qcow2`/`.raw`/`.vmdk` files for it from pve-storage 8.3.6 (commit 76f695f, PVE 8.4).
- Privileges (pve-access-control `AccessControl.pm` `$privgroups`): 9.0.2 added VM.GuestAgent.Audit/FileRead/
  FileWrite/FileSystemMgmt/Unrestricted (922f710) and dropped VM.Monitor (0706945); 9.0.3 added VM.Replicate
  (5f7544f). PVE 9.0 shipped with 9.0.3, so every 9.x has the 9 set and every 8.x the 8.2.2 one.
- Guest agent endpoints (qemu-server `API2/Qemu/Agent.pm`): every command needed VM.Monitor until 9.0.3
  (b92a40ce), which gave each command its own VM.GuestAgent.* (or VM.PowerMgmt) privilege.
"""

from __future__ import annotations

import re
from typing import Any

_COMMON = frozenset(
    {
        "VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.HWType",
        "VM.Config.Options", "VM.Allocate", "VM.Clone", "VM.Migrate", "VM.Snapshot", "VM.Snapshot.Rollback",
        "VM.Config.CDROM", "VM.Config.Cloudinit", "VM.Console", "VM.Backup", "VM.PowerMgmt", "VM.Audit",
        "Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", "Sys.AccessNetwork", "Sys.Console", "Sys.Syslog",
        "Sys.Audit", "Datastore.Allocate", "Datastore.AllocateTemplate", "Datastore.AllocateSpace",
        "Datastore.Audit", "SDN.Allocate", "SDN.Audit", "SDN.Use", "Realm.Allocate", "User.Modify",
        "Group.Allocate", "Realm.AllocateUser", "Pool.Allocate", "Pool.Audit", "Mapping.Modify",
        "Mapping.Use", "Mapping.Audit", "Permissions.Modify",
    }
)  # fmt: skip
# pve-access-control 8.2.2 (PVE 8.4) and 9.1.1 (PVE 9.x)
PRIVILEGES_8 = _COMMON | {"VM.Monitor"}
PRIVILEGES_9 = _COMMON | {
    "VM.GuestAgent.Audit",
    "VM.GuestAgent.FileRead",
    "VM.GuestAgent.FileSystemMgmt",
    "VM.GuestAgent.FileWrite",
    "VM.GuestAgent.Unrestricted",
    "VM.Replicate",
}


def release(version: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", version)
    if not match:
        raise ValueError(f"not a PVE version: {version!r}")
    return int(match.group(1)), int(match.group(2))


def error_message_in_body(version: str) -> bool:
    return release(version) >= (8, 4)


def download_content_types(version: str) -> list[str]:
    """The `content` enum of POST .../download-url."""
    return ["iso", "vztmpl", "import"] if release(version) >= (8, 3) else ["iso", "vztmpl"]


def import_extensions(version: str) -> str:
    """pve-storage's $UPLOAD_IMPORT_EXT_RE_1 (what an `import` download may be called)."""
    return r"\.(ova|qcow2|raw|vmdk)" if release(version) >= (8, 4) else r"\.(ova)"


def privileges(version: str) -> frozenset[str]:
    """The privileges the release's pve-access-control knows (`pveum role add` refuses any other)."""
    return PRIVILEGES_9 if release(version) >= (9, 0) else PRIVILEGES_8


def agent_permissions(version: str, permissions: dict[str, Any]) -> dict[str, Any]:
    """A guest agent endpoint's permission check: the 9.x one as vendored, VM.Monitor before 9."""
    if release(version) >= (9, 0):
        return permissions
    return {"check": ["perm", "/vms/{vmid}", ["VM.Monitor"]]}
