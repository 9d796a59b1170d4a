"""The twin's own schematic handling: strict decode, canonical YAML and id, written apart from the runner's.

The real factory (siderolabs/image-factory pkg/schematic/schematic.go) decodes a posted body with
`yaml.NewDecoder(...).KnownFields(true)` into its `Schematic` struct, and the id is
`sha256(yaml.Marshal(schematic))`, hex (go.yaml.in/yaml/v4, go.mod). The runner computes ids itself and
cross-checks the factory's answer, so the twin must not reuse the runner's code: here decoding walks PyYAML's
node tree against the Go struct (field order, `omitempty`), and encoding drives PyYAML's emitter (a port of
libyaml's, as go-yaml's is) with the choices Go's representer makes: 4-space indent, sequences indented
under their key, literal blocks for multi-line strings, double quotes for strings that would read back as
another type (go-yaml's resolver: null, bool, int, float, timestamp), single quotes for YAML 1.1 booleans.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from runner.lab.imagefactory.encode import canonical_yaml, schematic_id
from runner.lab.imagefactory.gotypes import BOOTLOADERS, SCHEMA, go_int

__all__ = ["InvalidSchematic", "canonical_yaml", "decode", "schematic_id"]


class InvalidSchematic(ValueError):
    """What the factory answers 400 with."""


def _fail(node: Node, message: str) -> InvalidSchematic:
    return InvalidSchematic(f"line {node.start_mark.line + 1}: {message}")


def _scalar_kind(node: Node) -> str:
    if not isinstance(node, ScalarNode):
        return "!!map" if isinstance(node, MappingNode) else "!!seq"
    if node.style in ("'", '"', "|", ">"):
        return "!!str"
    return "!!int" if go_int(node.value) is not None else "!!str"


def _decode(node: Node, kind: Any, errors: list[InvalidSchematic]) -> Any:
    if isinstance(kind, list):
        if isinstance(node, ScalarNode) and node.value in ("", "~", "null") and node.style is None:
            return []
        if not isinstance(node, SequenceNode):
            raise _fail(node, f"cannot construct {_scalar_kind(node)} `{_short(node)}` into []string")
        return [_decode(item, kind[0], errors) for item in node.value]
    if kind is str:
        if not isinstance(node, ScalarNode):
            raise _fail(node, f"cannot construct {_scalar_kind(node)} into string")
        return node.value
    if kind is bool:
        if isinstance(node, ScalarNode) and node.value in ("true", "True", "TRUE", "false", "False", "FALSE"):
            return node.value.lower() == "true"
        raise _fail(node, f"cannot construct {_scalar_kind(node)} `{_short(node)}` into bool")
    if kind in ("uint8", "uint"):
        value = go_int(node.value) if isinstance(node, ScalarNode) and node.style is None else None
        limit = 0xFF if kind == "uint8" else 2**64 - 1
        if value is None or not 0 <= value <= limit:
            raise _fail(node, f"cannot construct {_scalar_kind(node)} `{_short(node)}` into {kind}")
        return value
    if kind is dict:
        return yaml.safe_load(yaml.serialize(node)) or {}
    if not isinstance(node, MappingNode):
        if isinstance(node, ScalarNode) and node.value in ("", "~", "null") and node.style is None:
            return {}
        raise _fail(node, f"cannot construct {_scalar_kind(node)} into schematic.{kind}")
    fields = dict(SCHEMA[kind])
    out: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for key, value in node.value:
        name = key.value
        if name in seen:
            errors.append(_fail(key, f'mapping key "{name}" already defined at line {seen[name]}'))
            continue
        seen[name] = key.start_mark.line + 1
        if name not in fields:
            errors.append(_fail(key, f"field {name} not found in type schematic.{kind}"))
            continue
        out[name] = _decode(value, fields[name], errors)
    if kind == "Customization" and out.get("bootloader") not in (None, "", *BOOTLOADERS):
        errors.append(_fail(node, f"{out['bootloader']} does not belong to BootloaderKind values"))
    return out


def _short(node: Node) -> str:
    text = str(node.value) if isinstance(node, ScalarNode) else ""
    return text if len(text) <= 10 else text[:7] + "..."


def decode(body: bytes | str) -> dict[str, Any]:
    """The posted schematic as the Go struct would hold it; raises InvalidSchematic with the factory's text."""
    text = body.decode() if isinstance(body, bytes) else body
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise InvalidSchematic(f"yaml: {getattr(exc, 'problem', None) or exc}") from None
    if root is None:
        raise InvalidSchematic("EOF")
    errors: list[InvalidSchematic] = []
    try:
        tree = _decode(root, "Schematic", errors)
    except InvalidSchematic as exc:
        errors.append(exc)
    if len(errors) == 1:
        raise InvalidSchematic(f"yaml: construct errors: {errors[0]}")
    if errors:
        raise InvalidSchematic("yaml: construct errors:" + "".join(f"\n  {e}" for e in errors))
    return dict(tree)
