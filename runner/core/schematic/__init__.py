"""Talos Image Factory schematics: the model, its canonical YAML and id, and strict parsing."""

from runner.core.schematic.model import (
    BOOTLOADERS,
    Customization,
    DiskImage,
    MetaValue,
    Overlay,
    Schematic,
    SecureBoot,
    SystemExtensions,
    node_schematic,
    schematic_id,
    schematic_tree,
    schematic_yaml,
)
from runner.core.schematic.parse import SchematicError, parse_schematic

__all__ = [
    "BOOTLOADERS",
    "Customization",
    "DiskImage",
    "MetaValue",
    "Overlay",
    "Schematic",
    "SchematicError",
    "SecureBoot",
    "SystemExtensions",
    "node_schematic",
    "parse_schematic",
    "schematic_id",
    "schematic_tree",
    "schematic_yaml",
]
