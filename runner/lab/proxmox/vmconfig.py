"""VM config semantics shared by create and update: drives, disk allocation, normalisation, typed output."""

from __future__ import annotations

import random
import re
from typing import Any

from runner.lab.proxmox.errors import PveError, param_error
from runner.lab.proxmox.formats import parse_size
from runner.lab.proxmox.images import qcow2_virtual_size
from runner.lab.proxmox.schema import option_schema
from runner.lab.proxmox.state import GIB, ProxmoxTwinState, Volume

NEW_DISK_RE = re.compile(r"^(([^/:\s]+):)?(\d+(\.\d+)?)$")  # qemu-server Drive.pm $NEW_DISK_RE
DRIVE_RE = re.compile(r"^(ide|sata|scsi|virtio)(\d+)$|^(efidisk0|tpmstate0)$")


def is_drive(option: str) -> bool:
    return DRIVE_RE.match(option) is not None


def drive_order(option: str) -> tuple[int, int]:
    # qemu-server valid_drive_names order: ide, sata, scsi, virtio, efidisk0, tpmstate0
    match = DRIVE_RE.match(option)
    assert match
    kind = match.group(1) or match.group(3)
    rank = ["ide", "sata", "scsi", "virtio", "efidisk0", "tpmstate0"].index(kind)
    return rank, int(match.group(2) or 0)


def split_drive(value: str) -> tuple[str, dict[str, str]]:
    """'local-lvm:0,import-from=x,discard=on' -> ('local-lvm:0', {'import-from': 'x', 'discard': 'on'})."""
    parts = [p for p in value.split(",") if p]
    file = parts[0] if parts and "=" not in parts[0] else ""
    opts = dict(p.split("=", 1) for p in parts if "=" in p)
    return opts.pop("file", file), opts


def join_drive(file: str, opts: dict[str, str]) -> str:
    return ",".join([file, *(f"{k}={v}" for k, v in sorted(opts.items()))])


def format_size(size: int) -> str:
    # PVE::JSONSchema::format_size
    for unit in ("", "K", "M", "G"):
        if size % 1024:
            return f"{size}{unit}"
        size //= 1024
    return f"{size}T"


def normalize_tags(value: str) -> str:
    # PVE::GuestHelpers::get_unique_tags with default tag-style: lower-case, sorted, unique
    tags = sorted({t.lower() for t in re.split(r"[,;\s]+", value) if t})
    return ";".join(tags)


def random_mac() -> str:
    # PVE's default MAC prefix (datacenter.cfg mac_prefix) is BC:24:11
    return "BC:24:11:" + ":".join(f"{random.randrange(256):02X}" for _ in range(3))


def normalize_net(value: str) -> str:
    """print_net after parse_net: model=MAC first (a MAC is generated when missing), then the rest sorted."""
    parts = [p for p in value.split(",") if p]
    model, mac, rest = "", "", {}
    for part in parts:
        key, _, val = part.partition("=")
        if key == "model" or (not val and "=" not in part):
            model = val or key
        elif key == "macaddr":
            mac = val
        elif option_net_model(key):
            model, mac = key, val
        else:
            rest[key] = val
    return ",".join([f"{model}={mac or random_mac()}", *(f"{k}={v}" for k, v in sorted(rest.items()))])


def option_net_model(key: str) -> bool:
    schema = option_schema("net0") or {}
    return bool(schema.get("format", {}).get(key, {}).get("keyAlias"))


def current_memory(value: str | None) -> int:
    if not value:
        return 512
    return int(value.split("=", 1)[1] if "=" in value else value)


def next_disk_name(state: ProxmoxTwinState, storage: str, vmid: int) -> str:
    used = state.storages[storage].volumes
    n = 0
    while f"{storage}:vm-{vmid}-disk-{n}" in used:
        n += 1
    return f"vm-{vmid}-disk-{n}"


def check_drive_storage(state: ProxmoxTwinState, option: str, value: str) -> None:
    """Synchronous checks PVE does before forking the worker (check_drive_param, check_storage_access)."""
    file, opts = split_drive(value)
    new = NEW_DISK_RE.match(file)
    if opts.get("import-from") and (not new or float(new.group(3)) != 0):
        raise param_error({option: "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>"})
    if option == "efidisk0" and opts.get("import-from"):
        for required in ("efitype", "pre-enrolled-keys"):
            if required not in opts:
                raise param_error({option: f"need to specify '{required}' when using 'import-from'"})
    storage_id = (new.group(2) if new else file.partition(":")[0] if ":" in file else None) or None
    if storage_id is None:
        return
    storage = state.storages.get(storage_id)
    if storage is None:
        raise PveError(f"storage '{storage_id}' does not exist")
    if new and "images" not in storage.content:
        raise param_error({"storage": f"storage '{storage_id}' does not support vm images"})


def allocate_drive(state: ProxmoxTwinState, vmid: int, option: str, value: str) -> str:
    """Create the volume a drive asks for (inside the worker) and return the drive string PVE stores."""
    file, opts = split_drive(value)
    new = NEW_DISK_RE.match(file)
    if not new:
        if file not in ("none", "cdrom") and not file.startswith("/") and state.volume(file) is None:
            raise PveError(f"volume '{file}' does not exist")
        return join_drive(file, opts)
    storage = new.group(2)
    size = int(float(new.group(3)) * GIB)
    origin = ""
    if source := opts.pop("import-from", None):
        volume = state.volume(source)
        if volume is None:
            raise PveError(f"volume '{source}' does not exist")
        size = volume.virtual_size or volume.size
        origin = volume.origin or source
    if option == "efidisk0":
        size = 4 * 1024 * 1024 if opts.get("efitype") == "4m" else 128 * 1024
    name = next_disk_name(state, storage, vmid)
    volid = f"{storage}:{name}"
    state.storages[storage].volumes[volid] = Volume(volid, "images", "raw", size, vmid, origin=origin)
    opts["size"] = format_size(size)
    return join_drive(volid, opts)


def image_virtual_size(data: bytes) -> int:
    return qcow2_virtual_size(data) or len(data)


def drive_size(value: str) -> int:
    _, opts = split_drive(value)
    return parse_size(opts.get("size", "0")) or 0


def typed(option: str, value: str) -> Any:
    """Config values as PVE's JSON has them: integers and booleans as numbers, the rest as strings."""
    schema = option_schema(option) or {}
    kind = schema.get("type")
    if kind in ("integer", "boolean") and re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    if kind == "number" and re.fullmatch(r"[+-]?\d+(\.\d+)?", value):
        return float(value)
    return value
