"""Document kinds and unknown keys, driven by the vendored config schema of the Talos minor a node runs (Talos
decodes configs strictly: pkg/machinery/config/configloader/internal/decoder, xyaml.CheckUnknownKeys)."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

# The minors whose schema is vendored (runner/vendored/talos/v1.<minor>/), oldest first: the ones the twin imitates.
MINORS = ("v1.11", "v1.12", "v1.13")
V1ALPHA1_DEF = "v1alpha1.Config"
_MINOR = re.compile(r"^v?(\d+)\.(\d+)\.")


def minor_of(version: str) -> str | None:
    """`v1.12` for a node running v1.12.3; None when the twin does not imitate that Talos."""
    match = _MINOR.match(version)
    minor = f"v{match[1]}.{match[2]}" if match else None
    return minor if minor in MINORS else None


@cache
def _schema(minor: str) -> dict[str, Any]:
    text = resources.files("runner.vendored").joinpath(f"talos/{minor}/config.schema.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def document_def(api_version: str | None, kind: str | None, minor: str) -> str | None:
    """Name of the schema definition for a document, or None when this Talos does not know the document (its
    registry has no such kind: internal/registry "not registered")."""
    if kind is None:
        return V1ALPHA1_DEF if api_version in (None, "v1alpha1") else None
    for ref in _schema(minor)["oneOf"]:
        name = ref["$ref"].rsplit("/", 1)[-1]
        props = _schema(minor)["$defs"][name].get("properties", {})
        if kind in props.get("kind", {}).get("enum", []) and api_version in props.get("apiVersion", {}).get("enum", []):
            return str(name)
    return None


def unknown_keys(value: Any, def_name: str, minor: str) -> dict[str, Any]:
    """The subtree of `value` this Talos does not decode, shaped like the input (what Talos echoes back).

    Talos keeps decoding fields it hid from the schema when it deprecated them (`docgen:nodoc`, e.g.
    `machine.network` from v1.12: pkg/machinery/config/types/v1alpha1/v1alpha1_types.go@v1.13.9), so a key an
    older minor's schema documents is still known to the newer ones.
    """
    found = _walk(value, {"$ref": f"#/$defs/{def_name}"}, minor)
    for older in MINORS[: MINORS.index(minor)]:
        if not isinstance(found, dict) or def_name not in _schema(older)["$defs"]:
            break
        found = _walk(found, {"$ref": f"#/$defs/{def_name}"}, older)
    return found if isinstance(found, dict) else {}


def _resolve(node: dict[str, Any], minor: str) -> dict[str, Any]:
    while "$ref" in node:
        node = _schema(minor)["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _walk(value: Any, node: dict[str, Any], minor: str) -> Any:
    node = _resolve(node, minor)
    if isinstance(value, dict) and "properties" in node:
        props: dict[str, Any] = node["properties"]
        extra: dict[str, Any] = {}
        for key, item in value.items():
            if key in props:
                sub = _walk(item, props[key], minor)
                if sub:
                    extra[key] = sub
            elif node.get("additionalProperties") is False and not node.get("patternProperties"):
                extra[key] = item
        return extra or None
    if isinstance(value, dict) and isinstance(node.get("additionalProperties"), dict):
        extra = {}
        for key, item in value.items():
            sub = _walk(item, node["additionalProperties"], minor)
            if sub:
                extra[key] = sub
        return extra or None
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        subs = [_walk(item, node["items"], minor) for item in value]
        return subs if any(subs) else None
    return None
