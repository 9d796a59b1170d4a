"""YAML in the layout Talos (Go yaml.v3, 4-space indent) writes, a fast emitter, and a plain safe loader.

Strings that YAML 1.1 readers would take for booleans ("yes", "off", ...) and empty strings are
double-quoted like yaml.v3 does, so a hostname "on" survives any reader. Long base64 values stay on
one line.

`dump_documents` (ruamel's representer and emitter) writes Go's layout: for files a person compares with
talosctl's (the secrets bundle). `dump_documents_fast` writes the same layout directly, quoting more strings
(anything number-like) than Go would, about twenty times faster: for machine configs, which only Talos reads and a
cold plan renders one per node. Only schematic ids need Go's exact bytes (core/schematic has its own encoder).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.representer import SafeRepresenter

_YAML11_BOOLS = frozenset(
    w for word in ("y", "yes", "n", "no", "true", "false", "on", "off") for w in (word, word.upper(), word.title())
)


class _GoLikeRepresenter(SafeRepresenter):
    def represent_str(self, data: str) -> Any:
        if data == "" or data in _YAML11_BOOLS:
            return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        return super().represent_str(data)


_GoLikeRepresenter.add_representer(str, _GoLikeRepresenter.represent_str)


def _dumper() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.Representer = _GoLikeRepresenter
    yaml.default_flow_style = False
    yaml.indent(mapping=4, sequence=6, offset=4)
    yaml.width = 1 << 30
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # keep Talos's field order
    return yaml


def dump_documents(documents: Iterable[Any]) -> str:
    """Multi-document YAML: documents separated by `---` lines, as `talosctl gen config` does."""
    out = io.StringIO()
    _dumper().dump_all(list(documents), out)
    return out.getvalue()


# A string is written plain only when no YAML reader (1.1 or 1.2: ruamel, PyYAML, Go's yaml.v3) could take it for
# anything but that string: safe characters, not number-like (digits, dots, signs, exponents, sexagesimal colons,
# 0x/0o/0b prefixes), not a null or boolean word, no trailing colon. Everything else is double-quoted; anything
# but printable ASCII is escaped (\u and four hex digits, or \U and eight), which every YAML reader decodes the same.
_PLAIN = re.compile(r"(?![0-9._eE+:-]+$)(?!0[xXoObB])[A-Za-z0-9_/][A-Za-z0-9_./:=@+-]*(?<!:)")
_WORDS = frozenset({"~", "null", "true", "false", "yes", "no", "on", "off", "y", "n"})
_NO_ESCAPES = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII but `"` and a backslash: quoted as it is


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _WORDS:
            return value
        return f'"{value}"' if _NO_ESCAPES.fullmatch(value) else _escaped(value)
    if value is True or value is False or value is None or isinstance(value, int):
        return json.dumps(value)  # true/false, null, integers: the same in JSON and YAML
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t"}


def _escaped(value: str) -> str:
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif " " <= char <= "~":
            out.append(char)
        else:  # \U for characters beyond the BMP: JSON's surrogate pairs are not YAML
            out.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _mapping(value: dict[Any, Any], pad: str, out: list[str]) -> None:
    for key, item in value.items():
        if isinstance(item, dict) and item:
            out.append(f"{pad}{_scalar(key)}:\n")
            _mapping(item, pad + "    ", out)
        elif isinstance(item, list) and item:
            out.append(f"{pad}{_scalar(key)}:\n")
            _sequence(item, pad + "    ", out)
        else:
            out.append(f"{pad}{_scalar(key)}: {_flow(item)}\n")


def _sequence(value: list[Any], pad: str, out: list[str]) -> None:
    for item in value:
        if isinstance(item, dict) and item:
            # The first key goes on the dash's line, the others under it (yaml.v3's layout).
            inner: list[str] = []
            _mapping(item, pad + "  ", inner)
            inner[0] = pad + "- " + inner[0][len(pad) + 2 :]
            out.extend(inner)
        elif isinstance(item, list) and item:
            out.append(f"{pad}-\n")
            _sequence(item, pad + "  ", out)
        else:
            out.append(f"{pad}- {_flow(item)}\n")


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"  # only empty ones reach here
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def dump_documents_fast(documents: Iterable[Any]) -> str:
    """Multi-document YAML of plain values (mappings at the top) in yaml.v3's block layout, written directly:
    ruamel's representer costs several milliseconds a document, this a fraction of one."""
    texts = []
    for document in documents:
        if not isinstance(document, dict):
            raise TypeError("every document must be a mapping")
        out: list[str] = []
        _mapping(document, "", out)
        texts.append("".join(out) or "{}\n")
    return "---\n".join(texts)


def load_documents(text: str) -> list[Any]:
    """Every document of `text`, empty ones dropped; ValueError on malformed YAML."""
    try:
        return [doc for doc in YAML(typ="safe", pure=True).load_all(text) if doc is not None]
    except YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from exc
