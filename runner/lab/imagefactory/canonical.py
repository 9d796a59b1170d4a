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

import hashlib
import math
import re
from typing import Any

import yaml
from yaml.emitter import ScalarAnalysis
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

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


class InvalidSchematic(ValueError):
    """What the factory answers 400 with."""


# --- go-yaml's resolver: what a plain scalar would read back as ----------------------------------------
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_BASE60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:Z|[-+]\d{2}:\d{2})?)?$")
_SPECIAL = {"~", "null", "Null", "NULL", "", "true", "True", "TRUE", "false", "False", "FALSE", "<<"}
_SPECIAL |= {s + v for s in ("", "+", "-") for v in (".inf", ".Inf", ".INF")} | {".nan", ".NaN", ".NAN"}
OLD_BOOLS = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF"}


def _go_int(text: str) -> int | None:
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
    if text[0] != "." and _go_int(text) is not None:
        return True
    plain = text.replace("_", "") if text[0] != "." else text
    if _FLOAT.match(plain):
        try:
            return not math.isinf(float(plain))  # out of range: strconv fails, so it stays a string
        except ValueError:
            return False
    date = _DATE.match(text)
    return bool(date and 1 <= int(date[2]) <= 12 and 1 <= int(date[3]) <= 31)


# --- decoding -----------------------------------------------------------------------------------------
def _fail(node: Node, message: str) -> InvalidSchematic:
    return InvalidSchematic(f"line {node.start_mark.line + 1}: {message}")


def _scalar_kind(node: Node) -> str:
    if not isinstance(node, ScalarNode):
        return "!!map" if isinstance(node, MappingNode) else "!!seq"
    if node.style in ("'", '"', "|", ">"):
        return "!!str"
    return "!!int" if _go_int(node.value) is not None else "!!str"


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
        value = _go_int(node.value) if isinstance(node, ScalarNode) and node.style is None else None
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


# --- encoding -----------------------------------------------------------------------------------------
def _empty(value: Any) -> bool:
    return value in ("", 0, False, None, "none") or value == [] or value == {}


def canonical_tree(tree: dict[str, Any], kind: str = "Schematic") -> dict[str, Any]:
    """Go field order with `omitempty` (a struct is empty when all its fields are)."""
    out: dict[str, Any] = {}
    for name, sub in SCHEMA[kind]:
        value = tree.get(name)
        if isinstance(sub, str) and sub in SCHEMA:
            value = canonical_tree(value or {}, sub)
        elif isinstance(sub, list) and isinstance(sub[0], str) and sub[0] in SCHEMA:
            value = [canonical_tree(v, sub[0]) for v in value or []]
        if kind == "Customization" and name == "bootloader" and value == "none":
            value = ""
        if (kind, name) in NOT_OMITTED or not _empty(value):
            out[name] = value if value is not None else ("" if sub is str else {})
    if kind == "Overlay" and set(out) <= {"image", "name"} and not out.get("image") and not out.get("name"):
        return {}
    return out


class _GoDumper(yaml.SafeDumper):
    """PyYAML's emitter with go-yaml's layout: sequences indented under their key, Go's printable set."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # go-yaml's rule (emitterc.go, increase_indent): inside a sequence item skip the "- " indicator,
        # everything else aligns to the next multiple of the indent; sequences are never indentless.
        self.indents.append(self.indent)
        if self.indent is None:
            self.indent = self.best_indent if flow else 0
        elif self.states and self.states[-1] == self.expect_block_sequence_item:
            self.indent += 2
        else:
            self.indent = self.best_indent * ((self.indent + self.best_indent) // self.best_indent)

    def analyze_scalar(self, scalar: str) -> ScalarAnalysis:
        analysis = super().analyze_scalar(scalar)
        # go-yaml treats characters outside the BMP and NEL as unprintable: they force double quotes.
        if any(ord(ch) > 0xFFFF or ch == "\x85" for ch in scalar):
            analysis.allow_flow_plain = analysis.allow_block_plain = False
            analysis.allow_single_quoted = analysis.allow_block = False
        return analysis

    def write_double_quoted(self, text: str, split: bool = True) -> None:
        if not text.startswith("\ufeff"):
            super().write_double_quoted(text, split=False)
            return
        # Go escapes every character of a string that starts with a byte order mark (seen in its output).
        self.write_indicator('"' + "".join(_escape(ch) for ch in text) + '"', True)

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        # Only what go-yaml would resolve a plain scalar to decides whether it may stay plain.
        if kind is ScalarNode and implicit[0]:
            if value in ("true", "True", "TRUE", "false", "False", "FALSE"):
                return "tag:yaml.org,2002:bool"
            if value in ("~", "null", "Null", "NULL", ""):
                return "tag:yaml.org,2002:null"
            if isinstance(value, str) and _go_int(value) is not None and value[:1] != ".":
                return "tag:yaml.org,2002:int"
            return "tag:yaml.org,2002:float" if reads_as_non_string(value) else "tag:yaml.org,2002:str"
        return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]


def _escape(ch: str) -> str:
    if ch in yaml.emitter.Emitter.ESCAPE_REPLACEMENTS:
        return "\\" + yaml.emitter.Emitter.ESCAPE_REPLACEMENTS[ch]
    code = ord(ch)
    return f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _represent_str(dumper: yaml.SafeDumper, value: str) -> ScalarNode:
    if "\n" in value:
        style: str | None = "|"
    elif reads_as_non_string(value) or _BASE60.match(value):
        style = '"'
    elif value in OLD_BOOLS:
        style = "'"
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_GoDumper.add_representer(str, _represent_str)


def _natural(key: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


def _sorted_maps(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_maps(value[k]) for k in sorted(value, key=lambda k: _natural(str(k)))}
    if isinstance(value, list):
        return [_sorted_maps(v) for v in value]
    return value


def canonical_yaml(tree: dict[str, Any]) -> bytes:
    canonical = canonical_tree(tree)
    overlay = canonical.get("overlay")
    if overlay and "options" in overlay:
        overlay["options"] = _sorted_maps(overlay["options"])  # Go marshals map keys sorted
    text = yaml.dump(
        canonical,
        Dumper=_GoDumper,
        indent=4,
        width=float("inf"),
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
    )
    return text.encode()


def schematic_id(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()
