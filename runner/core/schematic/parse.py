"""Read a schematic the way the factory does: strict YAML decoding into the Go struct.

`schematic.Unmarshal` decodes with `KnownFields(true)` (unknown keys are errors) and unique keys, and a
failure is answered `400` with the decoder's message; the messages here follow go-yaml's wording
(`yaml: construct errors: line 3: field foo not found in type schematic.Customization`) so the twin's
answers look like the real ones. Plain scalars are resolved with go-yaml's rules (`0xa` is 10).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from runner.core.schematic.goscalar import resolve
from runner.core.schematic.model import (
    BOOTLOADERS,
    Customization,
    DiskImage,
    MetaValue,
    Overlay,
    Schematic,
    SecureBoot,
    SystemExtensions,
)

T = TypeVar("T")


class SchematicError(ValueError):
    """The schematic YAML is not one the factory would accept; the message is the factory's."""


class _Errors:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, node: Node, message: str) -> None:
        self.items.append(f"line {node.start_mark.line + 1}: {message}")


def _scalar(node: Node) -> tuple[str, object]:
    assert isinstance(node, ScalarNode)
    return ("str", node.value) if node.style else resolve(node.value)


def _tag_text(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "!!map"
    if isinstance(node, SequenceNode):
        return "!!seq"
    tag, _ = _scalar(node)
    value = node.value if len(node.value) <= 10 else node.value[:7] + "..."
    return f"!!{tag} `{value}`"


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and _scalar(node)[0] == "null"


def _string(node: Node, errs: _Errors) -> str:
    if not isinstance(node, ScalarNode):
        errs.add(node, f"cannot construct {_tag_text(node)} into string")
        return ""
    return "" if _is_null(node) else node.value


def _uint(node: Node, errs: _Errors, go_type: str, maximum: int) -> int:
    if _is_null(node):
        return 0
    tag, value = _scalar(node) if isinstance(node, ScalarNode) else ("", None)
    if tag == "int" and isinstance(value, int) and 0 <= value <= maximum:
        return value
    errs.add(node, f"cannot construct {_tag_text(node)} into {go_type}")
    return 0


def _bool(node: Node, errs: _Errors) -> bool:
    if _is_null(node):
        return False
    tag, value = _scalar(node) if isinstance(node, ScalarNode) else ("", None)
    if tag == "bool":
        return bool(value)
    if isinstance(node, ScalarNode) and not node.style and node.value in ("y", "Y", "yes", "Yes", "YES", "on", "On"):
        return True  # go-yaml keeps YAML 1.1 booleans for bool fields
    if isinstance(node, ScalarNode) and not node.style and node.value in ("n", "N", "no", "No", "NO", "off", "Off"):
        return False
    errs.add(node, f"cannot construct {_tag_text(node)} into bool")
    return False


def _sequence(node: Node, errs: _Errors, go_type: str, item: Callable[[Node, _Errors], T]) -> tuple[T, ...]:
    """A Go slice: null decodes to an empty one, anything but a sequence is an error."""
    if _is_null(node):
        return ()
    if not isinstance(node, SequenceNode):
        errs.add(node, f"cannot construct {_tag_text(node)} into {go_type}")
        return ()
    return tuple(item(entry, errs) for entry in node.value)


def _strings(node: Node, errs: _Errors) -> tuple[str, ...]:
    return _sequence(node, errs, "[]string", _string)


Fields = dict[str, Callable[[Node, _Errors], Any]]


def _struct(node: Node, errs: _Errors, go_type: str, fields: Fields) -> dict[str, Any]:
    """Decode a mapping into named fields; unknown and repeated keys are errors like in go-yaml."""
    if _is_null(node):
        return {}
    if not isinstance(node, MappingNode):
        errs.add(node, f"cannot construct {_tag_text(node)} into {go_type}")
        return {}
    seen: dict[str, int] = {}
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key in seen:
            errs.add(key_node, f'mapping key "{key}" already defined at line {seen[key]}')
            continue
        seen[key] = key_node.start_mark.line + 1
        if key not in fields:
            errs.add(key_node, f"field {key} not found in type {go_type}")
            continue
        out[key] = fields[key](value_node, errs)
    return out


def _plain(node: Node) -> Any:
    """A free-form value (overlay options) as the Go decoder would produce it."""
    if isinstance(node, MappingNode):
        return {str(k.value): _plain(v) for k, v in node.value}
    if isinstance(node, SequenceNode):
        return [_plain(v) for v in node.value]
    return _scalar(node)[1]


def _meta_value(node: Node, errs: _Errors) -> MetaValue:
    f = _struct(node, errs, "schematic.MetaValue", {"key": lambda n, e: _uint(n, e, "uint8", 0xFF), "value": _string})
    return MetaValue(f.get("key", 0), f.get("value", ""))


def _meta(node: Node, errs: _Errors) -> tuple[MetaValue, ...]:
    return _sequence(node, errs, "[]schematic.MetaValue", _meta_value)


def _bootloader(node: Node, errs: _Errors) -> str:
    text = _string(node, errs)
    name = text.lower()
    if name in ("", "none"):
        return ""
    if name in BOOTLOADERS:
        return name
    errs.add(node, f"{text} does not belong to BootloaderKind values")
    return ""


def _customization(node: Node, errs: _Errors) -> Customization:
    f = _struct(
        node,
        errs,
        "schematic.Customization",
        {
            "embeddedMachineConfiguration": _string,
            "extraKernelArgs": _strings,
            "meta": _meta,
            "systemExtensions": lambda n, e: SystemExtensions(
                _struct(n, e, "schematic.SystemExtensions", {"officialExtensions": _strings}).get(
                    "officialExtensions", ()
                )
            ),
            "bootloader": _bootloader,
            "secureboot": lambda n, e: SecureBoot(
                **_rename(
                    _struct(
                        n,
                        e,
                        "schematic.SecureBootCustomization",
                        {"enrollKeys": _string, "includeWellKnownCertificates": _bool},
                    )
                )
            ),
            "diskImage": lambda n, e: DiskImage(
                _struct(n, e, "schematic.DiskImageCustomization", {"sectorSize": _sector}).get("sectorSize", 0)
            ),
        },
    )
    return Customization(**_rename(f))


def _sector(node: Node, errs: _Errors) -> int:
    return _uint(node, errs, "uint", 2**64 - 1)


def _options(node: Node, errs: _Errors) -> Any:
    if _is_null(node):
        return None
    if not isinstance(node, MappingNode):
        errs.add(node, f"cannot construct {_tag_text(node)} into map[string]interface {{}}")
        return None
    return _plain(node)


def _overlay(node: Node, errs: _Errors) -> Overlay:
    f = _struct(node, errs, "schematic.Overlay", {"image": _string, "name": _string, "options": _options})
    return Overlay(**f)


_SNAKE = {
    "embeddedMachineConfiguration": "embedded_machine_configuration",
    "extraKernelArgs": "extra_kernel_args",
    "systemExtensions": "system_extensions",
    "diskImage": "disk_image",
    "enrollKeys": "enroll_keys",
    "includeWellKnownCertificates": "include_well_known_certificates",
}


def _rename(fields: dict[str, Any]) -> dict[str, Any]:
    return {_SNAKE.get(k, k): v for k, v in fields.items()}


def parse_schematic(data: bytes | str) -> Schematic:
    """Strictly decode a posted schematic (YAML or JSON); raises SchematicError with the factory's message."""
    text = data.decode("utf-8", errors="strict") if isinstance(data, bytes) else data
    try:
        root = YAML(typ="rt").compose(text)
    except YAMLError as exc:
        raise SchematicError(f"yaml: {str(exc).splitlines()[0]}") from None
    if root is None:
        raise SchematicError("EOF")  # the Go decoder reports io.EOF for an empty document
    errs = _Errors()
    f = _struct(
        root,
        errs,
        "schematic.Schematic",
        {"owner": _string, "overlay": _overlay, "customization": _customization},
    )
    if errs.items:
        raise SchematicError("yaml: construct errors: " + "; ".join(errs.items))
    return Schematic(**f)
