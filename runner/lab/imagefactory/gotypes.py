"""The Go side of a schematic: the factory's struct (field order, kinds, `omitempty`) and go-yaml's resolver.

Sources: siderolabs/image-factory pkg/schematic/schematic.go (the struct and its yaml tags); go-yaml's
resolve.go (what a plain scalar reads back as: null, bool, int (strconv base 0, `_` allowed), float,
timestamp) and encode.go (YAML 1.1 booleans and base-60 numbers are quoted for old parsers).
"""

from __future__ import annotations

import math
import re
from typing import Any

BOOTLOADERS = ("none", "dual-boot", "sd-boot", "grub")
# Go struct field order, YAML names and kinds (pkg/schematic.Schematic and its parts).
SCHEMA: dict[str, list[tuple[str, Any]]] = {
    "Schematic": [("owner", str), ("overlay", "Overlay"), ("customization", "Customization")],
    "Overlay": [("image", str), ("name", str), ("options", dict)],
    "Customization": [
        ("embeddedMachineConfiguration", str),
        ("extraKernelArgs", [str]),
        ("meta", ["MetaValue"]),
        ("systemExtensions", "SystemExtensions"),
        ("bootloader", str),
        ("secureboot", "SecureBootCustomization"),
        ("diskImage", "DiskImageCustomization"),
    ],
    "MetaValue": [("key", "uint8"), ("value", str)],
    "SystemExtensions": [("officialExtensions", [str])],
    "SecureBootCustomization": [("enrollKeys", str), ("includeWellKnownCertificates", bool)],
    "DiskImageCustomization": [("sectorSize", "uint")],
}
NOT_OMITTED = {
    ("Overlay", "image"),
    ("Overlay", "name"),
    ("MetaValue", "key"),
    ("MetaValue", "value"),
    ("Schematic", "customization"),
}


_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
BASE60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:Z|[-+]\d{2}:\d{2})?)?$")
_SPECIAL = {"~", "null", "Null", "NULL", "", "true", "True", "TRUE", "false", "False", "FALSE", "<<"}
_SPECIAL |= {s + v for s in ("", "+", "-") for v in (".inf", ".Inf", ".INF")} | {".nan", ".NaN", ".NAN"}
OLD_BOOLS = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF"}


def go_int(text: str) -> int | None:
    plain = text.replace("_", "")
    sign, digits = (plain[0], plain[1:]) if plain[:1] in "+-" else ("", plain)
    base = {"0x": 16, "0X": 16, "0o": 8, "0O": 8, "0b": 2, "0B": 2}.get(digits[:2], 10)
    body = digits[2:] if base != 10 else digits
    if base == 10 and len(body) > 1 and body.startswith("0"):
        base = 8  # strconv base 0: a leading 0 is octal
    try:
        return int(sign + body, base) if body and body.isalnum() else None
    except ValueError:
        return None


def reads_as_non_string(text: str) -> bool:
    if text in _SPECIAL:
        return True
    if text[:1] not in "+-.0123456789":
        return False
    if text[0] != "." and go_int(text) is not None:
        return True
    plain = text.replace("_", "") if text[0] != "." else text
    if _FLOAT.match(plain):
        try:
            return not math.isinf(float(plain))  # out of range: strconv fails, so it stays a string
        except ValueError:
            return False
    date = _DATE.match(text)
    return bool(date and 1 <= int(date[2]) <= 12 and 1 <= int(date[3]) <= 31)
