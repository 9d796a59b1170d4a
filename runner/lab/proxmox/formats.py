"""Named parameter formats of the PVE API, ported from pve-common's JSONSchema.pm and qemu-server.

apidata.js only names these formats (`"format": "mac-addr"`); the checks and their error texts live in
Perl. Each checker raises `FormatError` with PVE's exact message. Hash formats (`pve-qm-boot`,
`pve-vm-cpu-conf`) are property strings with sub-keys; they are returned as schemas and parsed by
`validate.parse_property_string`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from runner.lab.proxmox.cpu_models import CPU_MODELS


class FormatError(Exception):
    """A value does not match its format; str() is PVE's message (without trailing newline)."""


def split_list(text: str) -> list[str]:
    # PVE::Tools::split_list: NUL, comma, semicolon or whitespace separated
    if "\0" in text:
        return text.split("\0")
    return [part for part in re.split(r"[,;\s]+", text.strip()) if part]


def _full(pattern: str, value: str, flags: int = 0) -> bool:
    return re.fullmatch(pattern, value, flags) is not None


def verify_vmid(value: str) -> None:
    if not _full(r"[1-9][0-9]{2,8}", value):
        raise FormatError("value does not look like a valid VM ID")


def verify_node(value: str) -> None:
    if not _full(r"[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?", value):
        raise FormatError("value does not look like a valid node name")


def verify_dns_name(value: str) -> None:
    label = r"([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)"
    if not _full(rf"({label}\.)*{label}", value):
        raise FormatError("value does not look like a valid DNS name")


def verify_mac(value: str) -> None:
    # the I/G bit must not be set (second hex digit even), as in pve_verify_mac_addr
    if not _full(r"[a-f0-9][02468ace](?::[a-f0-9]{2}){5}", value, re.IGNORECASE):
        raise FormatError("value does not look like a valid unicast MAC address")


def verify_bridge(value: str) -> None:
    if not _full(r"[-_.\w\d]+", value):
        raise FormatError(f"invalid bridge ID '{value}'")


def verify_storage_id(value: str) -> None:
    if len(value) < 2:
        raise FormatError(f"storage ID '{value}' cannot be shorter than 2 characters")
    if not _full(r"[a-z][a-z0-9\-_.]*[a-z0-9]", value, re.IGNORECASE):
        raise FormatError(f"storage ID '{value}' contains illegal characters")


def verify_tag(value: str) -> None:
    if not _full(r"[a-z0-9_][a-z0-9_\-+.]*", value, re.IGNORECASE):
        raise FormatError("invalid characters in tag")


def verify_configid(value: str) -> None:
    if not _full(r"[a-z][a-z0-9_-]+", value, re.IGNORECASE):
        raise FormatError(f"invalid configuration ID '{value}'")


VOLUME_ID_RE = r"([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)"


def verify_volume_id(value: str) -> None:
    if not _full(VOLUME_ID_RE, value, re.IGNORECASE):
        raise FormatError(f"unable to parse volume ID '{value}'")


def verify_volume_id_or_qm_path(value: str) -> None:
    if value in ("none", "cdrom") or value.startswith("/"):
        return
    verify_volume_id(value)


def verify_volume_id_or_absolute_path(value: str) -> None:
    if value.startswith("/"):
        return
    verify_volume_id(value)


def parse_size(value: str) -> int | None:
    """PVE::JSONSchema::parse_size: bytes, or None when malformed."""
    match = re.fullmatch(r"(\d+(\.\d+)?)([KMGT](?:iB)?)?", value)
    if not match:
        return None
    size = float(match.group(1))
    unit = (match.group(3) or "")[:1]
    return int(size * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}[unit])


def verify_disk_size(value: str) -> None:
    if parse_size(value) is None:
        raise FormatError(f"value does not look like a valid disk size: {value}")


STORAGE_CONTENT_TYPES = ("images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import", "none")


def verify_storage_content(value: str) -> None:
    if value not in STORAGE_CONTENT_TYPES:
        raise FormatError(f"invalid content type '{value}'")


def _is_valid_drivename(name: str) -> bool:
    match = re.fullmatch(r"(ide|sata|scsi|virtio)(\d+)", name)
    if match:
        limit = {"ide": 4, "sata": 6, "scsi": 31, "virtio": 16}[match.group(1)]
        return int(match.group(2)) < limit
    return name in ("efidisk0", "tpmstate0")


def verify_bootdev(value: str) -> None:
    if _is_valid_drivename(value) and not value.startswith(("efidisk", "tpmstate")):
        return
    match = re.fullmatch(r"(net|usb|hostpci)(\d+)", value)
    if match and int(match.group(2)) < {"net": 32, "usb": 14, "hostpci": 16}[match.group(1)]:
        return
    raise FormatError(f"invalid boot device '{value}'")


def validate_vm_cpu_conf(parsed: dict[str, Any]) -> None:
    cputype = parsed.get("cputype")
    if not cputype:
        raise FormatError("CPU is missing cputype")
    if not str(cputype).startswith("custom-") and cputype not in CPU_MODELS:
        raise FormatError(f"Built-in cputype '{cputype}' is not defined (missing 'custom-' prefix?)")


# Hash formats: sub-key schemas in apidata.js style, as qemu-server registers them.
HASH_FORMATS: dict[str, dict[str, Any]] = {
    "pve-qm-boot": {
        "legacy": {"optional": 1, "type": "string", "pattern": "[acdn]{1,4}", "default_key": 1},
        "order": {"optional": 1, "type": "string", "format": "pve-qm-bootdev-list"},
    },
    "pve-vm-cpu-conf": {
        "cputype": {"type": "string", "default_key": 1, "optional": 1},
        "flags": {"optional": 1, "type": "string", "pattern": r"(?:[+-][a-zA-Z0-9\-_\.]+;)*[+-][a-zA-Z0-9\-_\.]+"},
        "hidden": {"optional": 1, "type": "boolean"},
        "hv-vendor-id": {"optional": 1, "type": "string", "pattern": "[a-zA-Z0-9]{1,12}"},
        "phys-bits": {"optional": 1, "type": "string"},
        "guest-phys-bits": {"optional": 1, "type": "integer", "minimum": 32, "maximum": 64},
        "reported-model": {"optional": 1, "type": "string"},
    },
}

HASH_FORMAT_VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {"pve-vm-cpu-conf": validate_vm_cpu_conf}

STRING_FORMATS: dict[str, Callable[[str], None]] = {
    "pve-vmid": verify_vmid,
    "pve-node": verify_node,
    "dns-name": verify_dns_name,
    "mac-addr": verify_mac,
    "pve-bridge-id": verify_bridge,
    "pve-storage-id": verify_storage_id,
    "pve-tag": verify_tag,
    "pve-configid": verify_configid,
    "pve-volume-id": verify_volume_id,
    "pve-volume-id-or-qm-path": verify_volume_id_or_qm_path,
    "pve-volume-id-or-absolute-path": verify_volume_id_or_absolute_path,
    "disk-size": verify_disk_size,
    "pve-storage-content": verify_storage_content,
    "pve-qm-bootdev": verify_bootdev,
}
