"""Validation and pruning of custom resources against their CRD's structural openAPIV3Schema.

Like the API server: unknown fields are pruned (dropped silently) unless the schema preserves them, and
what remains is validated; each failure is reported as (field path, message) in the server's wording.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema

_METADATA_FIELDS = {
    "name",
    "namespace",
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
    "generateName",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
}


def prune(obj: Any, schema: dict[str, Any], top: bool = True) -> Any:
    """Drop fields the schema does not declare (x-kubernetes-preserve-unknown-fields keeps them)."""
    if isinstance(obj, dict):
        if schema.get("x-kubernetes-preserve-unknown-fields") and "properties" not in schema:
            return obj
        props = schema.get("properties")
        additional = schema.get("additionalProperties")
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if top and key in ("apiVersion", "kind"):
                out[key] = value
            elif top and key == "metadata":
                out[key] = (
                    {k: v for k, v in value.items() if k in _METADATA_FIELDS} if isinstance(value, dict) else value
                )
            elif props is not None and key in props:
                out[key] = prune(value, props[key], top=False)
            elif isinstance(additional, dict):
                out[key] = prune(value, additional, top=False)
            elif schema.get("x-kubernetes-preserve-unknown-fields") or (props is None and additional is None):
                out[key] = value
        return out
    if isinstance(obj, list) and isinstance(schema.get("items"), dict):
        return [prune(item, schema["items"], top=False) for item in obj]
    return obj


def unknown_fields(obj: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Paths pruning would drop: a strict check for files we write ourselves."""
    pruned = prune(obj, schema, top=not path)
    return _diff_keys(obj, pruned, path)


def _diff_keys(original: Any, pruned: Any, path: str) -> list[str]:
    out: list[str] = []
    if isinstance(original, dict) and isinstance(pruned, dict):
        for key, value in original.items():
            sub = f"{path}.{key}" if path else key
            if key not in pruned:
                out.append(sub)
            else:
                out.extend(_diff_keys(value, pruned[key], sub))
    elif isinstance(original, list) and isinstance(pruned, list):
        for i, (a, b) in enumerate(zip(original, pruned, strict=False)):
            out.extend(_diff_keys(a, b, f"{path}[{i}]"))
    return out


def _field(error: jsonschema.ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: jsonschema.ValidationError) -> tuple[str, str]:
    where = _field(error)
    value = json.dumps(error.instance)
    if error.validator == "required":
        missing = str(error.message).split("'")[1]
        return (f"{where}.{missing}" if where else missing, "Required value")
    if error.validator == "type":
        return (where, f"Invalid value: {value}: {where} in body must be of type {error.validator_value}: {value}")
    if error.validator == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        return (where, f"Unsupported value: {value}: supported values: {allowed}")
    if error.validator == "pattern":
        return (where, f"Invalid value: {value}: {where} in body should match '{error.validator_value}'")
    if error.validator in ("minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "format"):
        return (where, f"Invalid value: {value}: {where} in body {error.message}")
    return (where, f"Invalid value: {value}: {error.message}")


def validate(obj: dict[str, Any], schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for every violation; empty when valid. `status` is validated by the status endpoint."""
    body = {k: v for k, v in obj.items() if k != "status"}
    props = {k: v for k, v in (schema.get("properties") or {}).items() if k not in ("status", "metadata")}
    top = {**schema, "properties": props}
    validator = jsonschema.Draft7Validator(top)
    errors = sorted(validator.iter_errors(body), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    return [_message(e) for e in errors]
