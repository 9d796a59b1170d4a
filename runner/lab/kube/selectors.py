"""Label and field selectors of a list request: parsed as the API server parses them, or refused with its words.

A selector that does not parse, or a field the kind does not index, is 400 BadRequest
(kubernetes/apiserver `pkg/endpoints/handlers/get.go` ListResource @v0.32.1: DecodeParameters, then
`FieldSelector.Transform(ConvertFieldLabel)`). The parsers are ports of kubernetes/apimachinery @v0.32.1 (the
same @v0.36.3 but for label keys and values, checked by `content` from v0.35)
`pkg/labels/selector.go` (Lexer, Parser, NewRequirement) and `pkg/fields/selector.go` (parseSelector); the
fields each kind indexes are kubernetes/kubernetes `pkg/apis/core/v1/conversion.go` (Pod, Node, Secret,
Namespace, Service; others `metadata.name`/`metadata.namespace`, `pkg/runtime/conversion.go`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import errors, objectmeta

Requirement = tuple[str, str, list[str]]  # key, operator, values
_SPECIAL = "=!(),><"
_TOKENS = {")", ",", "!", "==", "=", ">", "in", "<", "!=", "notin", "("}
_BINARY = ["in", "notin", "=", "==", "!=", "gt", "lt"]

POD_FIELDS = {
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
}
FIELDS = {
    "Pod": POD_FIELDS,
    "Node": {"metadata.name", "spec.unschedulable"},
    "Secret": {"metadata.name", "metadata.namespace", "type"},
    "Namespace": {"metadata.name", "status.phase"},
    "Service": {"metadata.name", "metadata.namespace", "spec.clusterIP", "spec.type"},
}


def _lex(text: str) -> list[tuple[str, str]]:
    """(token, literal) pairs: a token is its literal for keywords and symbols, `id` for identifiers."""
    out: list[tuple[str, str]] = []
    i = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i == len(text):
            return [*out, ("end", "")]
        if text[i] in _SPECIAL:
            j, last = i, ""
            while j < len(text) and text[j] in _SPECIAL:
                if text[i : j + 1] in _TOKENS:
                    last = text[i : j + 1]
                elif last:
                    break
                j += 1
            if not last:
                return [*out, ("error", f"error expected: keyword found '{text[i:j]}'")]
            out.append((last, last))
            i += len(last)
        else:
            j = i
            while j < len(text) and text[j] not in _SPECIAL and text[j] not in " \t\r\n":
                j += 1
            word = text[i:j]
            out.append((word if word in ("in", "notin") else "id", word))
            i = j


def parse_labels(text: str, minor: int) -> list[Requirement]:
    """labels.Parse of Kubernetes 1.`minor`; raises ValueError with the parser's message."""
    items, pos = _lex(text), 0

    def peek(values: bool = True) -> tuple[str, str]:
        tok, lit = items[min(pos, len(items) - 1)]
        return ("id" if values and tok in ("in", "notin") else tok), lit

    def take(values: bool = True) -> tuple[str, str]:
        nonlocal pos
        pos += 1
        tok, lit = items[min(pos - 1, len(items) - 1)]
        return ("id" if values and tok in ("in", "notin") else tok), lit

    def requirement() -> Requirement:
        tok, lit = take()
        op = ""
        if tok == "!":
            op, (tok, lit) = "!", take()
        if tok != "id":
            raise ValueError(f"found '{lit}', expected: identifier")
        key = lit
        key_errors = objectmeta.qualified_name(key, minor)
        if key_errors:
            raise ValueError("<nil>: " + objectmeta.invalid(key, "; ".join(key_errors)))
        if peek()[0] in ("end", ","):
            return key, op or "exists", []
        if op:
            return key, op, []
        tok, lit = take(values=False)
        operators = {"in": "in", "notin": "notin", "=": "=", "==": "==", "!=": "!=", ">": "gt", "<": "lt"}
        if tok not in operators:
            raise ValueError(f"found '{lit}', expected: {', '.join(_BINARY)}")
        op = operators[tok]
        if op in ("in", "notin"):
            tok, lit = take()
            if tok != "(":
                raise ValueError(f"found '{lit}' expected: '('")
            values: set[str] = set()
            while True:
                tok, lit = take()
                if tok == ")" and not values:
                    values.add("")
                    break
                if tok != "id":
                    raise ValueError(f"found '{lit}', expected: ',', or identifier")
                values.add(lit)
                tok, lit = take()
                if tok == ")":
                    break
                if tok != ",":
                    raise ValueError(f"found '{lit}', expected: ',' or ')'")
        elif peek()[0] in ("end", ","):
            values = {""}
        else:
            tok, lit = take()
            if tok != "id":
                raise ValueError(f"found '{lit}', expected: identifier")
            values = {lit}
        for i, value in enumerate(sorted(values)):
            bad = objectmeta.label_value(value, minor)
            if bad:
                raise ValueError(f"values[{i}][{key}]: " + objectmeta.invalid(value, "; ".join(bad)))
        return key, op, sorted(values)

    out: list[Requirement] = []
    while True:
        tok, lit = peek()
        if tok == "end":
            return out
        if tok not in ("id", "!"):
            raise ValueError(f"found '{lit}', expected: !, identifier, or 'end of string'")
        try:
            out.append(requirement())
        except ValueError as e:
            raise ValueError(f"unable to parse requirement: {e}") from None
        tok, lit = take()
        if tok == "end":
            return out
        if tok != ",":
            raise ValueError(f"found '{lit}', expected: ',' or 'end of string'")
        if peek()[0] not in ("id", "!"):
            raise ValueError(f"found '{peek()[1]}', expected: identifier after ','")


def parse_fields(text: str, kind: str, group: str) -> list[Requirement]:
    """fields.ParseSelector, then the kind's field label conversion."""
    out: list[Requirement] = []
    for part in sorted(re.split(r"(?<!\\),", text)) if text else []:
        if not part:
            continue
        match = re.match(r"^(.*?)(!=|==|=)(.*)$", part, re.S)
        if match is None:
            raise ValueError(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, value = match.groups()
        out.append((field, op, [_unescape(value)]))
    for field, _, _ in out:
        if not group and kind in FIELDS and field not in FIELDS[kind]:
            raise ValueError(f"field label not supported: {field}")
        if (group or kind not in FIELDS) and field not in ("metadata.name", "metadata.namespace"):
            raise ValueError(f'"{field}" is not a known field selector: only "metadata.name", "metadata.namespace"')
    return out


def _unescape(value: str) -> str:
    out, escaped = [], False
    for c in value:
        if escaped:
            if c not in "\\,=":
                raise ValueError(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c in ",=":
            raise ValueError(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if escaped:
        raise ValueError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def matches(values: dict[str, str], requirements: list[Requirement]) -> bool:
    def one(key: str, op: str, wanted: list[str]) -> bool:
        has, value = key in values, values.get(key)
        if op in ("=", "==", "in"):
            return has and value in wanted
        if op in ("!=", "notin"):
            return not has or value not in wanted
        if op == "exists":
            return has
        if op == "!":
            return not has
        try:
            number, bound = int(value or ""), int(wanted[0])
        except ValueError:
            return False
        return number > bound if op == "gt" else number < bound

    return all(one(*r) for r in requirements)


def fields_of(obj: dict[str, Any]) -> dict[str, str]:
    """The values of the fields a field selector may name."""
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    out = {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", "")}
    if obj.get("kind") == "Pod":
        out |= {f"spec.{k}": str(spec.get(k, "")) for k in ("nodeName", "restartPolicy", "schedulerName")}
        out |= {"spec.serviceAccountName": spec.get("serviceAccountName", ""), "status.phase": status.get("phase", "")}
        out["spec.hostNetwork"] = str(bool(spec.get("hostNetwork"))).lower()
        out["status.podIP"] = status.get("podIP", "")
    if obj.get("kind") == "Node":
        out["spec.unschedulable"] = str(bool(spec.get("unschedulable"))).lower()
    if obj.get("kind") == "Secret":
        out["type"] = obj.get("type", "")
    return out


def selecting(params: Any, kind: str, group: str, minor: int) -> Callable[[dict[str, Any]], bool]:
    """A filter for a list request's `labelSelector` and `fieldSelector`, or 400 BadRequest (Kubernetes
    1.`minor`'s words)."""
    try:
        labels = parse_labels(params.get("labelSelector") or "", minor)
        fields = parse_fields(params.get("fieldSelector") or "", kind, group)
    except ValueError as e:
        raise errors.bad_request(str(e)) from None
    return lambda o: matches(o["metadata"].get("labels") or {}, labels) and matches(fields_of(o), fields)
