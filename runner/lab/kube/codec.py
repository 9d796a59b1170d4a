"""The twin's decoders and validation, per resource type and the imitated Kubernetes release.

Built-in kinds are checked against their OpenAPI definitions (openapi.py), custom resources against their
CRD's structural schema (schema.py). What each kind of write answers for a body its type does not fit:

| write | wrong type / bad base64 | unknown field, Strict | unknown field, otherwise | rule broken |
|---|---|---|---|---|
| create, update | 400 `cannot be handled as a` | 400 `strict decoding error` | dropped | 422 Invalid |
| merge patch | 422 Invalid on `patch` | 400 `strict decoding error` | dropped | 422 Invalid |
| server-side apply | 500 `failed to create typed patch object` | same | same | 422 Invalid |

(kubernetes/apiserver `pkg/endpoints/handlers/create.go`, `update.go`, `patch.go` @v0.32.1; custom resources
are decoded unstructured, so their wrong types are the schema validation's 422.)
"""

from __future__ import annotations

import json
from typing import Any

from . import decode, errors, field_value, objectmeta, openapi, release, schema
from .catalog import ResourceType

_WORKLOADS = {("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "DaemonSet"), ("apps", "StatefulSet")}


class Codec:
    minor_of = staticmethod(openapi.minor_of)

    def __init__(self, kubernetes_version: str) -> None:
        self.minor = openapi.minor_of(kubernetes_version)
        self.defs = openapi.definitions(self.minor)

    def _schema(self, rt: ResourceType, body: dict[str, Any]) -> tuple[dict[str, Any], bool] | None:
        """(schema, is custom) of the version the body is written in."""
        version = str(body.get("apiVersion") or "").rpartition("/")[2] or rt.preferred_version
        if rt.schemas.get(version):
            return rt.schemas[version], True
        name = openapi.definition_of(self.minor, rt.group, version, rt.kind)
        return ({"$ref": f"#/$defs/{name}"}, False) if name else None

    def _decode(self, rt: ResourceType, body: dict[str, Any]) -> decode.Decoded | None:
        found = self._schema(rt, body)
        return decode.decode(self.defs, found[0], body, custom=found[1]) if found else None

    def unknown_fields(self, rt: ResourceType, body: dict[str, Any]) -> list[str]:
        """What a strict decoder reports of a request body (a patch's keys are the object's own paths)."""
        decoded = self._decode(rt, {k: v for k, v in body.items() if not k.startswith("$")})
        return [p for p in decoded.unknown if "$" not in p] if decoded else []

    def check_body(self, rt: ResourceType, body: dict[str, Any]) -> None:
        """Create and update: the Go decoder's error, 400."""
        decoded = self._decode(rt, body)
        if decoded is not None and decoded.error and not rt.schemas:
            version = str(body.get("apiVersion") or "").rpartition("/")[2] or rt.preferred_version
            raise errors.cannot_decode(rt.kind, version, decoded.error)

    def check_patched(self, rt: ResourceType, patched: dict[str, Any]) -> None:
        """A merge patch's result that does not decode: 422 on `patch` (patch.go applyPatchToCurrentObject)."""
        decoded = self._decode(rt, patched)
        if decoded is not None and decoded.error and not rt.schemas:
            text = json.dumps(patched, separators=(",", ":"))
            raise errors.invalid_kind("", "", "", [("patch", objectmeta.invalid(text, decoded.error))])

    def check_applied(self, rt: ResourceType, name: str, config: dict[str, Any]) -> None:
        """Server-side apply's typed conversion of the applied configuration: 500 on any mismatch."""
        decoded = self._decode(rt, config)
        if decoded is not None and decoded.typed:
            api_version = str(config.get("apiVersion") or rt.api_version(rt.preferred_version))
            ns = str((config.get("metadata") or {}).get("namespace") or "")  # the applied object's own
            raise errors.typed_patch(ns, name, api_version, rt.kind, decode.typed_message(decoded.typed))

    def admit(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """`obj` without the fields its type lacks, or 422 Invalid for every rule it breaks."""
        found = self._schema(rt, obj)
        problems = objectmeta.problems(rt.group, rt.kind, obj.get("metadata") or {}, release.minor_number(self.minor))
        if found is not None and found[1]:
            obj = schema.prune(obj, found[0])
            problems += schema.validate(obj, found[0])
        elif found is not None:
            obj = decode.decode(self.defs, found[0], obj).value
            body = {k: v for k, v in obj.items() if k != "status"}  # the status subresource's own business
            required = [(path, "Required value") for path in _missing(self.defs, found[0], body)]
            # ValidateDeploymentSpec's order: the selector, then the template it must select
            at = next((i for i, (f, _) in enumerate(required) if f.startswith("spec.template")), len(required))
            problems += required[:at] + _selector_problems(rt, obj, release.minor_number(self.minor)) + required[at:]
        if problems:
            raise errors.invalid(rt, str((obj.get("metadata") or {}).get("name", "")), problems)
        return obj


def _selector_problems(rt: ResourceType, obj: dict[str, Any], minor: int) -> list[tuple[str, str]]:
    """A workload's selector must select its pod template (apps validation, ValidatePodTemplateSpecForReplicaSet);
    the values are shown as Kubernetes 1.`minor` shows them."""
    spec = obj.get("spec") or {}
    if (rt.group, rt.kind) not in _WORKLOADS or not isinstance(spec.get("selector"), dict | None):
        return []
    wanted = (spec.get("selector") or {}).get("matchLabels") or {}
    if spec.get("selector") is not None and not wanted and not spec["selector"].get("matchExpressions"):
        what = "deployment" if rt.kind == "ReplicaSet" else rt.kind.lower()  # ReplicaSet reuses the words
        shown = field_value.empty_selector(minor)
        return [("spec.selector", f"Invalid value: {shown}: empty selector is invalid for {what}")]
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    # a missing selector selects nothing (LabelSelectorAsSelector(nil) is labels.Nothing())
    if spec.get("selector") is not None and all((labels or {}).get(k) == v for k, v in wanted.items()):
        return []
    shown = field_value.string_map(labels, minor)
    return [("spec.template.metadata.labels", f"Invalid value: {shown}: `selector` does not match template `labels`")]


# Go value (not pointer) structs: never absent, so the API server validates them as empty when they are.
_VALUE_STRUCTS = ("io.k8s.api.core.v1.PodTemplateSpec", "io.k8s.api.core.v1.PodSpec")


def _missing(defs: dict[str, Any], schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """Paths of required fields that are absent or empty (`spec.template.spec.containers[0].name`)."""
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    out: list[str] = []
    props = schema.get("properties")
    if isinstance(value, dict) and props is not None:
        required = schema.get("required") or ()
        for key, prop in props.items():
            where = f"{path}.{key}" if path else key
            if value.get(key) is not None:
                out += [where] if key in required and value[key] in ("", []) else []
                out += _missing(defs, prop, value[key], where)
            elif str(prop.get("$ref", "")).rpartition("/")[2] in _VALUE_STRUCTS:
                out += _missing(defs, prop, {}, where)
            elif key in required:
                out.append(where)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            out += _missing(defs, schema["items"], item, f"{path}[{i}]")
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key, item in value.items():
            out += _missing(defs, schema["additionalProperties"], item, f"{path}[{key}]")
    return out
