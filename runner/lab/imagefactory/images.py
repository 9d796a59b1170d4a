"""The twin's boot assets: small deterministic bytes per (schematic, version, asset path).

The real factory builds gigabyte images; the twin serves a few KiB that depend only on what identifies
the asset, so a downloader can be checked end to end (same URL -> same bytes -> same sha256) cheaply.
Path grammar follows siderolabs/image-factory internal/profile ParseFromPath (disk images and ISOs).
"""

from __future__ import annotations

import hashlib
import re
import struct

ARCHES = ("amd64", "arm64")
IMAGE_SIZE = 4096
_DISK = re.compile(
    r"(?P<platform>[a-z0-9]+)-(?P<arch>[a-z0-9]+)(?P<secureboot>-secureboot)?"
    r"\.(?P<format>raw|qcow2|vpc|ova)(?P<compression>\.tar\.gz|\.gz|\.xz|\.zst)?"
)
_ISO = re.compile(r"(?P<platform>[a-z0-9]+)-(?P<arch>[a-z0-9]+)(?P<secureboot>-secureboot)?\.iso")
# internal/mime ContentType, for the extensions the twin serves.
_CONTENT_TYPES = {
    ".qcow2": "application/x-qemu-disk",
    ".iso": "application/x-iso9660-image",
    ".xz": "application/x-xz",
    ".gz": "application/gzip",
}  # anything else (.raw, .zst) falls back to application/octet-stream in the factory's container
_MAGIC = {"iso": b"\x00" * 8}
QCOW2_VIRTUAL_SIZE = 1 << 30  # Talos' metal disk image is ~1 GiB; the VM's disk is grown after import


def _qcow2_header() -> bytes:
    """A valid qcow2 v3 header (magic, version, virtual size, header length): importers check these."""
    header = b"QFI\xfb" + struct.pack(">IQIIQ", 3, 0, 0, 16, QCOW2_VIRTUAL_SIZE)
    return header + b"\0" * (100 - len(header)) + struct.pack(">I", 104)


class InvalidAssetPath(ValueError):
    """The asset path names no image the factory can build (400 invalid profile path)."""


def parse_asset_path(path: str) -> dict[str, str]:
    """Platform, arch and format of a disk image or ISO path; raises InvalidAssetPath."""
    m = _DISK.fullmatch(path) or _ISO.fullmatch(path)
    if not m:
        raise InvalidAssetPath(f"invalid profile path: {path!r}".replace("'", '"'))
    if m["arch"] not in ARCHES:
        raise InvalidAssetPath(f'invalid architecture: "{m["arch"]}"')
    fmt = m.groupdict().get("format") or "iso"
    return {"platform": m["platform"], "arch": m["arch"], "format": fmt}


def content_type(path: str) -> str:
    for ext, ctype in _CONTENT_TYPES.items():
        if path.endswith(ext):
            return ctype
    return "application/octet-stream"


def image_bytes(schematic_id: str, version: str, path: str) -> bytes:
    """The exact bytes the twin serves for /image/{schematic_id}/{version}/{path}."""
    fmt = parse_asset_path(path)["format"]
    seed = f"{schematic_id}/{version}/{path}".encode()
    out = bytearray(_qcow2_header() if fmt == "qcow2" else _MAGIC.get(fmt, b""))
    block = hashlib.sha256(seed).digest()
    while len(out) < IMAGE_SIZE:
        out += block
        block = hashlib.sha256(block + seed).digest()
    return bytes(out[:IMAGE_SIZE])


def image_sha256(schematic_id: str, version: str, path: str = "metal-amd64.qcow2") -> str:
    """sha256 hex of the asset the twin would serve (what a downloader should verify)."""
    return hashlib.sha256(image_bytes(schematic_id, version, path)).hexdigest()
