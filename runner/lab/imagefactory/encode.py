"""The factory's canonical bytes of a decoded schematic, and its id (sha256 of them, hex).

PyYAML's emitter (a port of libyaml's, as go-yaml's is) driven with the choices go-yaml's encoder makes.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import yaml
from yaml.emitter import ScalarAnalysis
from yaml.nodes import Node, ScalarNode

from runner.lab.imagefactory.gotypes import BASE60, NOT_OMITTED, OLD_BOOLS, SCHEMA, go_int, reads_as_non_string


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
            if isinstance(value, str) and go_int(value) is not None and value[:1] != ".":
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
    elif reads_as_non_string(value) or BASE60.match(value):
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
