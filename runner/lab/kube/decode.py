"""What kube-apiserver's decoders make of a written body, before any validation runs.

- Create and update (POST, PUT) decode the JSON into the kind's Go struct (sigs.k8s.io/json, a fork of
  encoding/json): the first value of the wrong JSON type fails the request, a `[]byte` field (a Secret's `data`)
  must be standard base64, and fields the struct lacks are dropped, or reported under `fieldValidation`
  (kubernetes/apiserver `pkg/endpoints/handlers/create.go`, `rest.go` `transformDecodeError` @v0.32.1).
- Server-side apply converts the applied configuration to a typed value (structured-merge-diff
  `typed/validate.go` @v4.4.2): a wrong type, or a field the schema does not declare, fails it whatever
  `fieldValidation` says.

One walk over the value and its schema finds all three; the same walk reads a CRD's structural schema (for
the unknown fields and the typed check: custom resources are decoded unstructured, their types are the
schema validation's job).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .openapi import OBJECT_META

# Types whose Go decoder takes any JSON value (runtime.RawExtension, apiextensions JSON and its unions).
_ANY = re.compile(r"\.(RawExtension|JSON|JSONSchemaPropsOr\w+)$")
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_QUANTITY_SUFFIXES = {"", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}
QUANTITY_FORMAT = f"quantities must match the regular expression '{_QUANTITY.pattern}'"
_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


@dataclass
class Decoded:
    value: Any  # the body without the fields its type lacks
    error: str | None = None  # the Go decoder's first error (create/update answer it with 400)
    unknown: list[str] = field(default_factory=list)  # `spec.foo`, `spec.containers[0].bar`: strict decoding
    typed: list[str] = field(default_factory=list)  # structured-merge-diff's errors (server-side apply)


def decode(defs: dict[str, Any], schema: dict[str, Any], body: dict[str, Any], custom: bool = False) -> Decoded:
    """Walk `body` against `schema`: `{"$ref": ...}` to a built-in definition, or a CRD's openAPIV3Schema
    when `custom` (whose `metadata` is always ObjectMeta, as the API server types it)."""
    walker = _Walker(defs)
    schema, name = walker.resolve(schema)
    struct = _short(name)
    out: dict[str, Any] = {}
    props = schema.get("properties") or {}
    for key, value in body.items():
        if custom and key in ("apiVersion", "kind"):
            out[key] = value
        elif custom and key == "metadata":
            out[key] = walker.visit(value, {"$ref": f"#/$defs/{OBJECT_META}"}, key, key, f".{key}", "")
        elif key in props:
            out[key] = walker.visit(value, props[key], key, key, f".{key}", struct)
        elif custom and (schema.get("x-kubernetes-preserve-unknown-fields") or not props):
            out[key] = value
        else:
            walker.unknown.append(key)
            walker.typed.append(f".{key}: field not declared in schema")
    return Decoded(out, walker.error, walker.unknown, walker.typed)


def typed_message(errors: list[str]) -> str:
    """structured-merge-diff's ValidationErrors.Error()."""
    return errors[0] if len(errors) == 1 else "\n".join(["errors:", *(f"  {e}" for e in errors)])


class _Walker:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.error: str | None = None
        self.unknown: list[str] = []
        self.typed: list[str] = []

    def resolve(self, schema: dict[str, Any]) -> tuple[dict[str, Any], str]:
        name = ""
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            schema = self.defs[name]
        return schema, name

    def visit(self, value: Any, schema: dict[str, Any], go: str, strict: str, smd: str, struct: str) -> Any:
        schema, name = self.resolve(schema)
        if value is None or _ANY.search(name):
            return value
        if name.endswith(".Quantity"):
            return self.quantity(value, smd)
        if name.endswith(".IntOrString") or schema.get("x-kubernetes-int-or-string"):
            return self.int_or_string(value, smd)
        types = [t for t in ([schema["type"]] if isinstance(schema.get("type"), str) else schema.get("type") or [])]
        types = [t for t in types if t != "null"]
        if not types:
            return value
        kind = types[0]
        if kind == "object":
            return self.object(value, schema, name, go, strict, smd, struct)
        if kind == "array":
            if not isinstance(value, list):
                self.go_error(value, go, struct, self.go_type(schema, name))
                self.typed.append(f"{smd}: expected list, got &{{{_go_v(value)}}}")
                return value
            items = schema.get("items") or {}
            keys = schema.get("x-kubernetes-list-map-keys")
            set_type = schema.get("x-kubernetes-list-type") == "set"
            out = []
            for i, item in enumerate(value):
                pe = _element(i, item, keys, set_type)
                out.append(self.visit(item, items, go, f"{strict}[{i}]", f"{smd}{pe}", struct))
            return out
        self.scalar(value, kind, schema, name, go, smd, struct)
        return value

    def object(self, value: Any, schema: dict[str, Any], name: str, go: str, strict: str, smd: str, struct: str) -> Any:
        if not isinstance(value, dict):
            self.go_error(value, go, struct, self.go_type(schema, name))
            self.typed.append(f"{smd}: expected map, got &{{{_go_v(value)}}}")
            return value
        props = schema.get("properties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields")
        additional = schema.get("additionalProperties")
        if props is None:
            if isinstance(additional, dict):  # a map: the Go error names the map field itself
                return {
                    k: self.visit(v, additional, go, f"{strict}.{k}", f"{smd}.{k}", struct) for k, v in value.items()
                }
            return value
        inner = _short(name) or struct
        out = {}
        for key, item in value.items():
            if key in props:
                out[key] = self.visit(item, props[key], f"{go}.{key}", f"{strict}.{key}", f"{smd}.{key}", inner)
            elif preserve:
                out[key] = item
            else:
                self.unknown.append(f"{strict}.{key}")
                self.typed.append(f"{smd}.{key}: field not declared in schema")
        return out

    def scalar(self, value: Any, kind: str, schema: dict[str, Any], name: str, go: str, smd: str, struct: str) -> None:
        go_type = self.go_type(schema, name)
        if kind == "string":
            if not isinstance(value, str):
                self.go_error(value, go, struct, go_type)
                self.typed.append(f"{smd}: expected string, got &value.valueUnstructured{{Value:{_go_v(value)}}}")
            elif schema.get("format") == "byte" and self.error is None:
                bad = base64_error(value)
                if bad is not None:
                    self.error = f"illegal base64 data at input byte {bad}"
        elif kind in ("integer", "number"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.go_error(value, go, struct, go_type)
                self.typed.append(f"{smd}: expected numeric (int or float), got {_go_t(value)}")
            elif kind == "integer" and (isinstance(value, float) or not _fits(value, go_type)):
                self.go_error(value, go, struct, go_type, literal=True)
        elif kind == "boolean" and not isinstance(value, bool):
            self.go_error(value, go, struct, go_type)
            self.typed.append(f"{smd}: expected boolean, got &{{{_go_v(value)}}}")

    def quantity(self, value: Any, smd: str) -> Any:
        text = value if isinstance(value, str) else json.dumps(value)
        match = _QUANTITY.match(text.strip())
        if match is None or (match[2] not in _QUANTITY_SUFFIXES and not re.fullmatch(r"[eE][-+]?\d+", match[2])):
            self._first(QUANTITY_FORMAT if match is None else "unable to parse quantity's suffix")
        if isinstance(value, dict | list):
            self.typed.append(f"{smd}: expected any scalar, got &{{{_go_v(value)}}}")
        return value

    def int_or_string(self, value: Any, smd: str) -> Any:
        if isinstance(value, dict | list):
            self.typed.append(f"{smd}: expected any scalar, got &{{{_go_v(value)}}}")
        if not isinstance(value, str) and (isinstance(value, bool) or not isinstance(value, int)):
            self._first(f"json: cannot unmarshal {_json_kind(value, True)} into Go value of type int32")
        return value

    def go_error(self, value: Any, go: str, struct: str, go_type: str, literal: bool = False) -> None:
        where = f"Go struct field {struct}.{go}" if struct else "Go value"
        self._first(f"json: cannot unmarshal {_json_kind(value, literal)} into {where} of type {go_type}")

    def _first(self, message: str) -> None:
        if self.error is None:  # encoding/json keeps the first error and decodes on
            self.error = message

    def go_type(self, schema: dict[str, Any], name: str = "") -> str:
        """The Go type's name as reflect prints it (`v1.DeploymentSpec`, `int32`, `map[string]string`)."""
        schema, name = self.resolve(schema) if "$ref" in schema else (schema, name)
        types = [t for t in ([schema["type"]] if isinstance(schema.get("type"), str) else schema.get("type") or [])]
        kind = next((t for t in types if t != "null"), "")
        if kind == "object" and name and schema.get("properties") is not None:
            package, _, short = name.rpartition(".")
            return f"{package.rpartition('.')[2]}.{short}"
        if kind == "object":
            additional = schema.get("additionalProperties")
            return "map[string]" + (self.go_type(additional) if isinstance(additional, dict) else "interface {}")
        if kind == "array":
            return "[]" + self.go_type(schema.get("items") or {})
        if kind == "integer":
            return str(schema.get("format") or "int64")
        fmt = schema.get("format")
        return {"number": "float64", "boolean": "bool", "string": "[]uint8" if fmt == "byte" else "string"}.get(
            kind, "interface {}"
        )


def base64_error(text: str) -> int | None:
    """The input byte Go's base64.StdEncoding.DecodeString reports as corrupt, or None when `text` decodes."""
    si, n = 0, len(text)
    while True:
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return None
                return si - j
            ch = text[si]
            si += 1
            if ch in _B64:
                j += 1
                continue
            if ch in "\r\n":
                continue
            if ch != "=" or j < 2:
                return si - 1
            if j == 2:  # "==" is expected, the first "=" is consumed
                while si < n and text[si] in "\r\n":
                    si += 1
                if si == n:
                    return n
                if text[si] != "=":
                    return si - 1
                si += 1
            while si < n and text[si] in "\r\n":
                si += 1
            return si if si < n else None


def _fits(value: int, go_type: str) -> bool:
    bits = 31 if go_type == "int32" else 63
    return bool(-(2**bits) <= value < 2**bits)


def _element(i: int, item: Any, keys: list[str] | None, set_type: bool) -> str:
    """structured-merge-diff's PathElement: `[name="c"]` in an associative list, `[="v"]` in a set, else `[i]`."""
    if keys and isinstance(item, dict) and all(k in item for k in keys):
        return "[" + ",".join(f"{k}={json.dumps(item[k])}" for k in sorted(keys)) + "]"
    if set_type and not isinstance(item, dict | list):
        return f"[={json.dumps(item)}]"
    return f"[{i}]"


def _short(name: str) -> str:
    return name.rpartition(".")[2]


def _json_kind(value: Any, literal: bool = False) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return f"number {json.dumps(value)}" if literal else "number"
    kinds: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return kinds.get(type(value), "null")


def _go_t(value: Any) -> str:
    """What Go's %T prints for an unstructured JSON value."""
    if isinstance(value, bool):
        return "bool"
    kinds: dict[type, str] = {str: "string", dict: "map[string]interface {}", list: "[]interface {}"}
    return kinds.get(type(value), "float64")


def _go_v(value: Any) -> str:
    """Roughly what Go's %v prints for an unstructured JSON value."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))
