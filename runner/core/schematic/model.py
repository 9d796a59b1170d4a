"""The Image Factory schematic: a frozen mirror of siderolabs/image-factory `pkg/schematic.Schematic`.

Field order, names and `omitempty` follow the Go struct tags, because the schematic id is the sha256 of the
struct marshalled to YAML (`Schematic.ID()`); `schematic_yaml` reproduces those bytes exactly.
Source: siderolabs/image-factory pkg/schematic/schematic.go (v1.5.0).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.core.schematic.goyaml import dump

# imageropts.BootloaderKind text names; "none" is the zero value and so is omitted like "".
BOOTLOADERS = ("dual-boot", "sd-boot", "grub")
META_KEY_MAX = 0xFF  # MetaValue.Key is a uint8
META_KEY_NETWORK = 0x0A  # constants.MetaKeyNetworkPlatformConfig: the static network config (see metanet.py)
SECTOR_SIZE_MAX = 2**64 - 1  # DiskImageCustomization.SectorSize is a uint


@dataclass(frozen=True)
class MetaValue:
    """One initial META entry; Talos reads key 0x0a as the platform network config on `metal`."""

    key: int
    value: str

    def __post_init__(self) -> None:
        if isinstance(self.key, bool) or not isinstance(self.key, int) or not 0 <= self.key <= META_KEY_MAX:
            raise ValueError(f"meta key {self.key!r} is out of range: META keys are 0..255 (uint8)")
        if not isinstance(self.value, str):
            raise ValueError(f"meta key {self.key}: value must be a string")


@dataclass(frozen=True)
class SystemExtensions:
    official_extensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecureBoot:
    enroll_keys: str = ""
    include_well_known_certificates: bool = False


@dataclass(frozen=True)
class DiskImage:
    sector_size: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.sector_size <= SECTOR_SIZE_MAX:
            raise ValueError(f"diskImage.sectorSize {self.sector_size} must be an unsigned integer")


@dataclass(frozen=True)
class Customization:
    embedded_machine_configuration: str = ""
    extra_kernel_args: tuple[str, ...] = ()
    meta: tuple[MetaValue, ...] = ()
    system_extensions: SystemExtensions = SystemExtensions()
    bootloader: str = ""  # "" (auto) or one of BOOTLOADERS
    secureboot: SecureBoot = SecureBoot()
    disk_image: DiskImage = DiskImage()

    def __post_init__(self) -> None:
        if self.bootloader not in ("", *BOOTLOADERS):
            raise ValueError(f"{self.bootloader} does not belong to BootloaderKind values")


@dataclass(frozen=True)
class Overlay:
    image: str = ""
    name: str = ""
    # Free-form, interpreted by the overlay; compared but not hashed (a mapping is not hashable).
    options: Mapping[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class Schematic:
    customization: Customization = Customization()
    overlay: Overlay = Overlay()
    owner: str = ""  # Enterprise only; a community factory rejects it

    @property
    def extensions(self) -> tuple[str, ...]:
        return self.customization.system_extensions.official_extensions


def node_schematic(
    extensions: Iterable[str], meta_network_yaml: str | None = None, kernel_args: Iterable[str] = ()
) -> Schematic:
    """The schematic of one node: kernel args, official extensions and its static network config in META 0x0a."""
    meta = (MetaValue(META_KEY_NETWORK, meta_network_yaml),) if meta_network_yaml else ()
    return Schematic(
        Customization(
            extra_kernel_args=tuple(kernel_args), meta=meta, system_extensions=SystemExtensions(tuple(extensions))
        )
    )


def _omit_empty(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Go `omitempty`: drop "", 0, false, empty lists/maps and structs whose fields are all empty."""
    return {k: v for k, v in pairs if v not in ("", 0, False, None) and v != [] and v != {}}


def _options_tree(value: Any) -> Any:
    """overlay.options (map[string]any): Go marshals map keys sorted; only YAML-native leaves are allowed."""
    if isinstance(value, Mapping):
        return {str(k): _options_tree(value[k]) for k in sorted(value, key=_go_key)}
    if isinstance(value, list | tuple):
        return [_options_tree(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    raise ValueError(
        f"overlay options: unsupported value {value!r} (use strings, integers, booleans, null, lists, maps)"
    )


def _go_key(key: object) -> tuple[Any, ...]:
    # go-yaml sorts string keys "naturally" (runs of digits compare as numbers); approximated per run.
    text = str(key)
    runs: list[tuple[int, Any]] = []
    digits = ""
    for ch in text:
        if ch.isdigit():
            digits += ch
            continue
        if digits:
            runs.append((0, int(digits)))
            digits = ""
        runs.append((1, ch))
    if digits:
        runs.append((0, int(digits)))
    return tuple(runs)


def schematic_tree(s: Schematic) -> dict[str, Any]:
    c = s.customization
    overlay = _omit_empty(
        [("image", s.overlay.image), ("name", s.overlay.name), ("options", _options_tree(s.overlay.options or {}))]
    )
    # Overlay's own fields are not omitempty: a non-empty overlay always shows image and name.
    if overlay:
        overlay = {"image": s.overlay.image, "name": s.overlay.name, **overlay}
    customization = _omit_empty(
        [
            ("embeddedMachineConfiguration", c.embedded_machine_configuration),
            ("extraKernelArgs", list(c.extra_kernel_args)),
            ("meta", [{"key": m.key, "value": m.value} for m in c.meta]),
            ("systemExtensions", _omit_empty([("officialExtensions", list(c.system_extensions.official_extensions))])),
            ("bootloader", c.bootloader),
            (
                "secureboot",
                _omit_empty(
                    [
                        ("enrollKeys", c.secureboot.enroll_keys),
                        ("includeWellKnownCertificates", c.secureboot.include_well_known_certificates),
                    ]
                ),
            ),
            ("diskImage", _omit_empty([("sectorSize", c.disk_image.sector_size)])),
        ]
    )
    return {**_omit_empty([("owner", s.owner), ("overlay", overlay)]), "customization": customization}


def schematic_yaml(s: Schematic) -> bytes:
    """The canonical YAML the factory stores and hashes, byte for byte."""
    return dump(schematic_tree(s)).encode()


def schematic_id(s: Schematic) -> str:
    """sha256 hex of the canonical YAML: the id the factory answers for this schematic."""
    return hashlib.sha256(schematic_yaml(s)).hexdigest()
