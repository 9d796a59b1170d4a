"""Unknown-key detection driven by the vendored Talos config schema (Talos decodes configs strictly)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

_SCHEMA_FILE = resources.files("runner.vendored").joinpath("talos/config.schema.json")  # the one vendored copy
V1ALPHA1_DEF = "v1alpha1.Config"


@cache
def _schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_SCHEMA_FILE.read_text())
    return data


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = _schema()["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def document_def(api_version: str | None, kind: str | None) -> str | None:
    """Name of the schema definition for a document, or None when Talos does not know the document."""
    if kind is None:
        return V1ALPHA1_DEF if api_version in (None, "v1alpha1") else None
    for name, node in _schema()["$defs"].items():
        props = node.get("properties", {})
        if kind in props.get("kind", {}).get("enum", []) and api_version in props.get("apiVersion", {}).get("enum", []):
            return str(name)
    return None


def unknown_keys(value: Any, def_name: str) -> dict[str, Any]:
    """The subtree of `value` the schema does not allow, shaped like the input (what Talos echoes back)."""
    found = _walk(value, {"$ref": f"#/$defs/{def_name}"})
    return found if isinstance(found, dict) else {}


def _walk(value: Any, node: dict[str, Any]) -> Any:
    node = _resolve(node)
    if isinstance(value, dict) and "properties" in node:
        props: dict[str, Any] = node["properties"]
        extra: dict[str, Any] = {}
        for key, item in value.items():
            if key in props:
                sub = _walk(item, props[key])
                if sub:
                    extra[key] = sub
            elif node.get("additionalProperties") is False and not node.get("patternProperties"):
                extra[key] = item
        return extra or None
    if isinstance(value, dict) and isinstance(node.get("additionalProperties"), dict):
        extra = {}
        for key, item in value.items():
            sub = _walk(item, node["additionalProperties"])
            if sub:
                extra[key] = sub
        return extra or None
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        subs = [_walk(item, node["items"]) for item in value]
        return subs if any(subs) else None
    return None
