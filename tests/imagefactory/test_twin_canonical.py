"""The factory twin's own schematic code agrees with upstream's vectors, and shares nothing with the runner's."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from runner.lab.imagefactory.canonical import InvalidSchematic, canonical_yaml, decode, schematic_id
from tests.imagefactory.conftest import load_json

# siderolabs/image-factory pkg/schematic/schematic_test.go (TestID, TestUnmarshalID).
UPSTREAM = [
    ("{}", "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"),
    ("customization: {}", "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"),
    ('customization: {"extraKernelArgs": []}', "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"),
    (
        '{"customization": {"extraKernelArgs": ["noapic", "nolapic"]}}',
        "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c",
    ),
    (
        '{"customization": {"meta": [{"key": 10, "value": "foo"}], "extraKernelArgs": [], "systemExtensions": {}}}',
        "d308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f",
    ),
    (
        '{"overlay": {"name": "rpi_generic", "image": "siderolabs/sbc-raspberrypi"},"customization":{}}',
        "ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9",
    ),
    (
        '{"customization":{"secureboot": {"includeWellKnownCertificates": true}}}',
        "fa8e05f142a851d3ee568eb0a8e5841eaf6b0ebc8df9a63df16ac5ed2c04f3e6",
    ),
    (
        "customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/qemu-guest-agent]\n",
        "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515",
    ),
]


@pytest.mark.parametrize(("body", "expected"), UPSTREAM, ids=[i[:12] for _, i in UPSTREAM])
def test_upstream_ids(body: str, expected: str) -> None:
    assert schematic_id(canonical_yaml(decode(body))) == expected


def test_the_empty_schematic_is_an_empty_customization() -> None:
    assert canonical_yaml(decode("{}")) == b"customization: {}\n"


@pytest.mark.parametrize("vector", load_json("go_yaml_vectors.json"), ids=lambda v: v["id"][:12])
def test_bytes_match_the_go_encoder(vector: dict[str, Any]) -> None:
    assert canonical_yaml(vector["schematic"]).decode() == vector["yaml"]
    assert schematic_id(canonical_yaml(vector["schematic"])) == vector["id"]


@pytest.mark.parametrize("vector", load_json("unmarshal_vectors.json"), ids=lambda v: v["id"][:12])
def test_posted_forms_get_the_same_id(vector: dict[str, str]) -> None:
    assert schematic_id(canonical_yaml(decode(vector["input"]))) == vector["id"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("something:", "yaml: construct errors: line 1: field something not found in type schematic.Schematic"),
        ("customization:\n  meta:\n    - {key: 300, value: x}\n", "into uint8"),
        ("customization:\n  bootloader: lilo\n", "lilo does not belong to BootloaderKind values"),
        ("", "EOF"),
    ],
)
def test_rejections(body: str, message: str) -> None:
    with pytest.raises(InvalidSchematic, match=message):
        decode(body)


def test_the_twin_loads_none_of_the_runners_schematic_code() -> None:
    probe = (
        "import sys, runner.lab.imagefactory, runner.lab.world; "
        "print(sorted(m for m in sys.modules if m.startswith(('runner.core.schematic', 'runner.core.talos'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
