"""The schematic id is the factory's: sha256 of the YAML the Go encoder writes, byte for byte."""

from __future__ import annotations

from typing import Any

import pytest

from runner.core.schematic import (
    Customization,
    DiskImage,
    MetaValue,
    Overlay,
    Schematic,
    SecureBoot,
    SystemExtensions,
    node_schematic,
    parse_schematic,
    schematic_id,
    schematic_yaml,
)
from tests.imagefactory.conftest import load_json

# Ids from siderolabs/image-factory pkg/schematic/schematic_test.go and internal/integration/schematic_test.go.
KNOWN = [
    ("376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba", Schematic()),
    (
        "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515",
        node_schematic(["siderolabs/qemu-guest-agent"]),
    ),
    (
        "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c",
        Schematic(Customization(extra_kernel_args=("noapic", "nolapic"))),
    ),
    (
        "e0fb1129bbbdfb5d002e94af4cdce712a8370e850950a33a242d4c3f178c532d",
        Schematic(Customization(extra_kernel_args=("nolapic", "nomodeset"))),
    ),
    (
        "d308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f",
        Schematic(Customization(meta=(MetaValue(0x0A, "foo"),))),
    ),
    (
        "fe866116408a5a13dab7d5003eb57a00954ea81ebeec3fbbcd1a6d4462a00036",
        Schematic(Customization(meta=(MetaValue(0x0A, '{"externalIPs":["1.2.3.4"]}'),))),
    ),
    (
        "51ff3e49313773332729a5c04e57af0dbe2e6d3f65ff638e6d4c3a05065fefff",
        node_schematic(["siderolabs/amd-ucode", "siderolabs/gvisor", "siderolabs/gasket-driver"]),
    ),
    (
        "ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9",
        Schematic(overlay=Overlay(image="siderolabs/sbc-raspberrypi", name="rpi_generic")),
    ),
    (
        "fa8e05f142a851d3ee568eb0a8e5841eaf6b0ebc8df9a63df16ac5ed2c04f3e6",
        Schematic(Customization(secureboot=SecureBoot(include_well_known_certificates=True))),
    ),
    (
        "92833e9ddd9bb9e11b2464fa5525429f01866306d52ebd882ee08d7918f6d1ea",
        Schematic(Customization(disk_image=DiskImage(4096))),
    ),
    ("39d496b2cbdb6265d3b714514c5334bf010f1b4d31b23b9e38c80fb2f3ad7ecb", Schematic(Customization(bootloader="grub"))),
    (
        "9ed5fecdacb36b5c5427b87d409f1065cfb2df69b0f71c58b868d9d466d8dab3",
        Schematic(Customization(bootloader="sd-boot")),
    ),
]


@pytest.mark.parametrize(("expected", "schematic"), KNOWN, ids=[k[:12] for k, _ in KNOWN])
def test_well_known_ids(expected: str, schematic: Schematic) -> None:
    assert schematic_id(schematic) == expected


def test_empty_schematic_is_an_empty_customization() -> None:
    assert schematic_yaml(Schematic()) == b"customization: {}\n"


def _from_go_json(doc: dict[str, Any]) -> Schematic:
    c, o = doc["customization"], doc["overlay"]
    return Schematic(
        Customization(
            embedded_machine_configuration=c["embeddedMachineConfiguration"],
            extra_kernel_args=tuple(c["extraKernelArgs"]),
            meta=tuple(MetaValue(m["key"], m["value"]) for m in c["meta"]),
            system_extensions=SystemExtensions(tuple(c["systemExtensions"]["officialExtensions"])),
            bootloader="" if c["bootloader"] == "none" else c["bootloader"],
            secureboot=SecureBoot(c["secureboot"]["enrollKeys"], c["secureboot"]["includeWellKnownCertificates"]),
            disk_image=DiskImage(c["diskImage"]["sectorSize"]),
        ),
        overlay=Overlay(image=o["image"], name=o["name"]),
    )


GO_VECTORS = load_json("go_yaml_vectors.json")


@pytest.mark.parametrize("vector", GO_VECTORS, ids=[v["id"][:12] for v in GO_VECTORS])
def test_serialisation_matches_the_go_encoder(vector: dict[str, Any]) -> None:
    schematic = _from_go_json(vector["schematic"])
    assert schematic_yaml(schematic).decode() == vector["yaml"]
    assert schematic_id(schematic) == vector["id"]


UNMARSHAL = load_json("unmarshal_vectors.json")


@pytest.mark.parametrize("vector", UNMARSHAL, ids=[str(i) for i in range(len(UNMARSHAL))])
def test_posted_bodies_get_the_factorys_id(vector: dict[str, str]) -> None:
    assert schematic_id(parse_schematic(vector["input"])) == vector["id"]


def test_multiline_meta_value_is_a_literal_block_indented_under_its_key() -> None:
    text = schematic_yaml(Schematic(Customization(meta=(MetaValue(10, "a: 1\nb: 2\n"),)))).decode()
    assert (
        text == "customization:\n    meta:\n        - key: 10\n          value: |\n            a: 1\n            b: 2\n"
    )


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("true", '"true"'),  # would read back as a bool
        ("10", '"10"'),
        ("0xa", '"0xa"'),
        ("2024-01-02", '"2024-01-02"'),
        ("", '""'),
        ("yes", "'yes'"),  # YAML 1.1 boolean: quoted for old parsers
        ("- x", "'- x'"),
        ("a: b", "'a: b'"),
        ("tab\there", '"tab\\there"'),
        ("console=ttyS0,115200", "console=ttyS0,115200"),
        ("\nfirst line empty", "|-\n\n            first line empty"),  # v4: header break, no indent hint
    ],
)
def test_scalar_quoting_follows_go_yaml(value: str, rendered: str) -> None:
    text = schematic_yaml(Schematic(Customization(meta=(MetaValue(1, value),)))).decode()
    assert text == f"customization:\n    meta:\n        - key: 1\n          value: {rendered}\n"
