"""Parsing what users post: strict like the factory's decoder, with its error wording."""

from __future__ import annotations

import pytest

from runner.core.schematic import (
    Customization,
    MetaValue,
    Schematic,
    SchematicError,
    SystemExtensions,
    parse_schematic,
    schematic_yaml,
)


def test_full_schematic_round_trips() -> None:
    body = """
customization:
    extraKernelArgs: [vga=791, "console=ttyS0"]
    meta:
      - key: 0xa
        value: |
          hostnames: []
      - {key: 12, value: "x"}
    systemExtensions:
      officialExtensions: [siderolabs/gvisor, siderolabs/amd-ucode]
    secureboot:
      includeWellKnownCertificates: true
      enrollKeys: force
    bootloader: SD-BOOT
    diskImage: {sectorSize: 4096}
overlay:
  image: ghcr.io/siderolabs/sbc-raspberry-pi
  name: rpi_generic
  options: {data: mydata, nested: {b: 1, a: [true, null]}}
"""
    schematic = parse_schematic(body)
    c = schematic.customization
    assert c.extra_kernel_args == ("vga=791", "console=ttyS0")
    assert c.meta == (MetaValue(10, "hostnames: []\n"), MetaValue(12, "x"))
    assert c.bootloader == "sd-boot"
    assert c.disk_image.sector_size == 4096
    assert schematic.overlay.options == {"data": "mydata", "nested": {"b": 1, "a": [True, None]}}
    assert parse_schematic(schematic_yaml(schematic)) == schematic


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("something:", "yaml: construct errors: line 1: field something not found in type schematic.Schematic"),
        (
            "customization:\n  extraKernelArg: [quiet]\n",
            "yaml: construct errors: line 2: field extraKernelArg not found in type schematic.Customization",
        ),
        (
            "customization:\n  meta:\n    - key: 256\n      value: x\n",
            "yaml: construct errors: line 3: cannot construct !!int `256` into uint8",
        ),
        (
            "customization:\n  meta:\n    - key: -1\n      value: x\n",
            "yaml: construct errors: line 3: cannot construct !!int `-1` into uint8",
        ),
        (
            "customization:\n  meta:\n    - key: network\n      value: x\n",
            "yaml: construct errors: line 3: cannot construct !!str `network` into uint8",
        ),
        (
            "customization:\n  systemExtensions:\n    officialExtensions: siderolabs/gvisor\n",
            "yaml: construct errors: line 3: cannot construct !!str `siderol...` into []string",
        ),
        (
            "customization:\n  bootloader: lilo\n",
            "yaml: construct errors: line 2: lilo does not belong to BootloaderKind values",
        ),
        (
            "customization: {}\ncustomization: {}\n",
            'yaml: construct errors: line 2: mapping key "customization" already defined at line 1',
        ),
        ("", "EOF"),
    ],
)
def test_rejections_carry_the_factorys_message(body: str, message: str) -> None:
    with pytest.raises(SchematicError) as err:
        parse_schematic(body)
    assert str(err.value) == message


def test_several_problems_are_reported_together() -> None:
    with pytest.raises(SchematicError) as err:
        parse_schematic("customization:\n  foo: 1\n  bar: 2\n")
    assert str(err.value).count("not found in type schematic.Customization") == 2


def test_invalid_yaml_is_rejected() -> None:
    with pytest.raises(SchematicError, match=r"^yaml: "):
        parse_schematic("customization: [1,\n")


def test_quoted_numbers_stay_strings() -> None:
    schematic = parse_schematic('customization:\n  extraKernelArgs: ["10", 10]\n')
    assert schematic.customization.extra_kernel_args == ("10", "10")


def test_model_validates_meta_keys_and_bootloader() -> None:
    with pytest.raises(ValueError, match=r"0\.\.255"):
        MetaValue(256, "x")
    with pytest.raises(ValueError, match="BootloaderKind"):
        Customization(bootloader="lilo")
    assert Schematic(Customization(system_extensions=SystemExtensions(("a/b",)))).extensions == ("a/b",)
