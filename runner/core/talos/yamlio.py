"""YAML in the layout Talos (Go yaml.v3, 4-space indent) writes, and a plain safe loader.

Strings that YAML 1.1 readers would take for booleans ("yes", "off", ...) and empty strings are
double-quoted like yaml.v3 does, so a hostname "on" survives any reader. Long base64 values stay on
one line.
"""

from __future__ import annotations

import io
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


def load_documents(text: str) -> list[Any]:
    """Every document of `text`, empty ones dropped; ValueError on malformed YAML."""
    try:
        return [doc for doc in YAML(typ="safe", pure=True).load_all(text) if doc is not None]
    except YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from exc
