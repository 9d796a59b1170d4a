"""What differs between two (already redacted) machine configs, as short `path: old → new` lines for plans."""

from __future__ import annotations

from typing import Any

MISSING = "(absent)"


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}[{i}]", out)
    else:
        out[prefix] = str(value)


def _flat_docs(docs: list[Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for doc in docs:
        kind = str(doc.get("kind", "v1alpha1")) if isinstance(doc, dict) else "document"
        _flatten(doc, kind, out)
    return out


def config_diff(old: list[Any], new: list[Any], limit: int = 6) -> list[str]:
    """Changed leaves, sorted; inputs must be redacted (secret values already `***`)."""
    before, after = _flat_docs(old), _flat_docs(new)
    lines = [
        f"{path}: {before.get(path, MISSING)} → {after.get(path, MISSING)}"
        for path in sorted(before.keys() | after.keys())
        if before.get(path) != after.get(path)
    ]
    return lines[:limit] + ([f"… and {len(lines) - limit} more"] if len(lines) > limit else [])
