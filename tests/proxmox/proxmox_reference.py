"""The five reference VMs (clusters/home) as VmSpec/ImageSpec, built by hand from tests/proxmox/data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from runner.core.state import ImageSpec, VmSpec
from runner.lab.proxmox import deterministic_image

DATA = Path(__file__).parent / "data"


def load_reference() -> tuple[ImageSpec, list[VmSpec]]:
    ref = json.loads((DATA / "reference_vms.json").read_text())
    checksum = _sha256(deterministic_image(ref["image"]["url"]))
    image = ImageSpec(ref["node"], ref["image_storage"], ref["image"]["filename"], ref["image"]["url"], checksum)
    # The data file names each field as VmSpec does: a VM's own, then what every VM shares.
    vms = [
        VmSpec(
            **vm,
            **ref["every_vm"],
            node=ref["node"],
            cluster=ref["cluster"],
            image=image,
            spec_hash=f"{vm['vmid']:x}abc123",
        )
        for vm in ref["vms"]
    ]
    return image, vms


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
