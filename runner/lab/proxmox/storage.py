"""/nodes/{node}/storage/{storage}/content and /download-url, as pve-storage's API2/Storage/Status.pm."""

from __future__ import annotations

import re
from typing import Any

from runner.lab.proxmox.errors import PveError, param_error
from runner.lab.proxmox.images import checksum, qcow2_virtual_size
from runner.lab.proxmox.qemu import Params
from runner.lab.proxmox.state import ProxmoxTwinState, Storage, Volume
from runner.lab.proxmox.tasks import Task
from runner.lab.proxmox.versions import import_extensions

SAFE_CHARS = r"[a-zA-Z0-9\-\.\+\=\_]"
ISO_EXT = r"\.(?:iso|img)"
VZTMPL_EXT = r"\.tar\.(gz|xz|zst|bz2)"


def _storage(state: ProxmoxTwinState, name: str) -> Storage:
    storage = state.storages.get(name)
    if storage is None:
        raise PveError(f"storage '{name}' does not exist")
    return storage


def list_content(state: ProxmoxTwinState, params: Params, user: str) -> list[dict[str, Any]]:
    storage = _storage(state, str(params["storage"]))
    content, vmid = params.get("content"), params.get("vmid")
    rows = []
    for volume in sorted(storage.volumes.values(), key=lambda v: v.volid):
        if content and volume.content != content:
            continue
        if vmid and volume.vmid != int(vmid):
            continue
        row: dict[str, Any] = {
            "volid": volume.volid,
            "content": volume.content,
            "format": volume.format,
            "size": volume.size,
            "ctime": volume.ctime,
        }
        if volume.vmid is not None:
            row["vmid"] = volume.vmid
        rows.append(row)
    return rows


def _normalize_filename(name: str) -> str:
    # PVE::Storage::normalize_content_filename
    name = re.sub(r"^.*[/\\]", "", name.rstrip("\n"))
    return re.sub(r"[^a-zA-Z0-9_.-]", "_", name)


def _target(storage: Storage, content: str, filename: str, version: str) -> tuple[str, str]:
    """(volid, format) of the file a download creates, or the param error PVE raises."""
    if content == "iso":
        if not re.search(rf"[^/]+{ISO_EXT}$", filename):
            raise param_error({"filename": "wrong file extension"})
        return f"{storage.name}:iso/{filename}", "iso"
    if content == "vztmpl":
        if not re.search(rf"[^/]+{VZTMPL_EXT}$", filename):
            raise param_error({"filename": "wrong file extension"})
        return f"{storage.name}:vztmpl/{filename}", "tgz"
    match = re.search(rf"{SAFE_CHARS}+{import_extensions(version)}$", filename)
    if not match:
        raise param_error({"filename": "invalid filename or wrong extension"})
    return f"{storage.name}:import/{filename}", match.group(1)


def download_url(state: ProxmoxTwinState, params: Params, user: str) -> str:
    storage = _storage(state, str(params["storage"]))
    if not storage.file_based:
        raise PveError(f"can't upload to storage type '{storage.type}', not a file based storage!")
    content, url = str(params["content"]), str(params["url"])
    if content not in storage.content:
        raise PveError(f"storage '{storage.name}' is not configured for content-type '{content}'")
    filename = _normalize_filename(str(params["filename"]))
    volid, fmt = _target(storage, content, filename, state.version)
    compression = params.get("compression")
    expected, algorithm = params.get("checksum"), params.get("checksum-algorithm")
    path = f"/var/lib/vz/{volid.partition(':')[2]}"

    def work(task: Task) -> None:
        if compression and content != "iso":  # checked inside the worker, as pve-storage does
            raise PveError(f"decompression not supported for {content}")
        task.log.append(f"downloading {url} to {path}")
        existing = storage.volumes.get(volid)
        if existing is not None:
            if not expected:
                raise PveError(f"refusing to override existing file '{path}'")
            if existing.sha256 and algorithm == "sha256" and existing.sha256 == str(expected).lower():
                task.log.append(
                    "calculating checksum of existing file...OK, got correct file already, no need to download"
                )
                return
        try:
            data = state.resolver(url)
        except Exception as exc:  # whatever the resolver raises is a failed transfer, as wget's exit
            task.log.append(f"wget: unable to fetch {url}: {exc}")
            raise PveError("download failed: command 'wget' failed: exit code 8") from exc
        task.log.append(f"{len(data)} bytes transferred")
        if expected and algorithm:
            got = checksum(str(algorithm), data)
            if got.lower() != str(expected).lower():
                task.log.append("calculating checksum...")
                raise PveError(f"checksum mismatch: got '{got}' != expect '{expected}'")
            task.log.append("calculating checksum...OK, checksum verified")
        virtual = 0
        if fmt == "qcow2":
            virtual = qcow2_virtual_size(data) or 0
            if not virtual:
                raise PveError(f"failed to verify file: image '{path}.tmp_dwnl' is not a valid qcow2 image")
        storage.volumes[volid] = Volume(
            volid,
            content,
            fmt,
            len(data),
            virtual_size=virtual or len(data),
            sha256=checksum("sha256", data),
            origin=url,
        )
        task.log.append(f"download of '{url}' to '{path}' finished")

    worker_id = re.sub(r"[^\x20-\x24\x26-\x39\x3b-\x7e]", lambda m: f"%{ord(m.group()):02X}", filename)
    return state.tasks.start("download", worker_id, user, state.delays.download, work).upid
