"""What a CSI driver asks of the storage: a storage's status, and a disk allocated for a VMID that may not
exist (Proxmox CSI names its volumes `vm-<controllerVmID>-<pvc>`, 9999 by default, with no such VM).

As pve-storage (9.1.7) `PVE/API2/Storage/Status.pm` `read_status` and `PVE/API2/Storage/Content.pm` `create`:
- the size is KiB, or with a suffix M (MiB) or G (GiB); a name ending in .raw/.qcow2/.vmdk sets the format;
- `vdisk_alloc` on LVM-thin (`LvmThinPlugin.pm alloc_image`) allocates raw only, and refuses a name that is
  not `vm-<vmid>-*` ("illegal name"); lvcreate refuses an existing volume; the answer is `<storage>:<name>`.
Permissions (Datastore.AllocateSpace on /storage/{storage}; Datastore.Audit or AllocateSpace for the
status) come from the endpoints' `permissions` in the vendored schema, checked before this code runs.
"""

from __future__ import annotations

import re
from typing import Any

from runner.lab.proxmox.errors import PveError, param_error
from runner.lab.proxmox.qemu import Params
from runner.lab.proxmox.state import GIB, ProxmoxTwinState, Storage, Volume

TOTAL_BYTES = 512 * GIB  # what the lab's storages hold


def _storage(state: ProxmoxTwinState, name: str) -> Storage:
    storage = state.storages.get(name)
    if storage is None:
        raise PveError(f"No such storage '{name}'", 500)  # PVE::Storage::storage_config
    return storage


def storage_status(state: ProxmoxTwinState, params: Params, user: str) -> dict[str, Any]:
    storage = _storage(state, str(params["storage"]))
    used = sum(v.size for v in storage.volumes.values())
    return {
        "type": storage.type,
        "content": ",".join(sorted(storage.content)),
        "enabled": 1,
        "active": 1,
        "shared": 0,
        "total": TOTAL_BYTES,
        "used": used,
        "avail": TOTAL_BYTES - used,
    }


def _kib(size: str) -> int:
    if match := re.fullmatch(r"(\d+)([MG]?)", size):
        return int(match.group(1)) * {"": 1, "M": 1024, "G": 1024 * 1024}[match.group(2)]
    raise param_error({"size": f"unable to parse size '{size}'"})


def allocate_disk(state: ProxmoxTwinState, params: Params, user: str) -> str:
    storage = _storage(state, str(params["storage"]))
    name, vmid = str(params["filename"]), int(params["vmid"])
    size = _kib(str(params["size"]))
    fmt = params.get("format")
    if match := re.search(r"\.(raw|qcow2|vmdk)$", name):
        if fmt and fmt != match.group(1):
            raise param_error({"format": f"different storage formats ({fmt} != {match.group(1)})"})
        fmt = match.group(1)
    if storage.type != "lvmthin":
        raise PveError(f"the lab allocates disks on LVM-thin only, not on '{storage.type}'")
    if (fmt or "raw") != "raw":
        raise PveError(f"unsupported format '{fmt}'")
    if not name.startswith(f"vm-{vmid}-"):
        raise PveError(f"illegal name '{name}' - should be 'vm-{vmid}-*'")
    volid = f"{storage.name}:{name}"
    if volid in storage.volumes:
        raise PveError(f'lvcreate \'pve/{name}\' error: Logical Volume "{name}" already exists in volume group "pve"')
    storage.volumes[volid] = Volume(volid, "images", "raw", size * 1024, vmid, virtual_size=size * 1024)
    return volid
