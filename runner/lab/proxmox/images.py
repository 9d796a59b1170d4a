"""Where the twin's download-url gets bytes from, and just enough qcow2 to treat them like PVE does.

The twin never touches the internet: a resolver maps a URL to bytes (the lab wires it to the Image Factory
twin over localhost HTTP). PVE runs `qemu-img info` on downloaded `import` images and refuses files that
are not the format their extension claims, so the twin checks the qcow2 magic and reads the virtual size
from the header (the size an imported disk gets).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable

ImageResolver = Callable[[str], bytes]  # url -> bytes; raise OSError (or any Exception) when unreachable

QCOW2_MAGIC = b"QFI\xfb"
DEFAULT_VIRTUAL_SIZE = 1280 * 1024 * 1024  # a Talos metal image is a ~1.2 GiB disk


def fake_qcow2(virtual_size: int = DEFAULT_VIRTUAL_SIZE, payload: bytes = b"") -> bytes:
    """A minimal qcow2 v3 header (104 bytes) announcing `virtual_size`, followed by `payload`."""
    header = QCOW2_MAGIC + struct.pack(">IQIIQ", 3, 0, 0, 16, virtual_size)
    header += b"\0" * (100 - len(header)) + struct.pack(">I", 104)
    return header + payload


def qcow2_virtual_size(data: bytes) -> int | None:
    if len(data) < 32 or not data.startswith(QCOW2_MAGIC):
        return None
    return int(struct.unpack(">Q", data[24:32])[0])


def deterministic_image(url: str) -> bytes:
    """Default resolver: the same bytes for the same URL, a valid qcow2 for *.qcow2 URLs."""
    payload = hashlib.sha256(url.encode()).digest() * 64
    return fake_qcow2(payload=payload) if url.endswith(".qcow2") else payload


def checksum(algorithm: str, data: bytes) -> str:
    return hashlib.new(algorithm, data).hexdigest()
