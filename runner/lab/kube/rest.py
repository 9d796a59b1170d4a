"""The resource verbs of the twin's REST surface: list, get, create, update, patch, delete, evict.

Each request's options are checked first, as the API server's handlers check them (kubernetes/apiserver
`pkg/endpoints/handlers/{create,update,patch,get}.go` @v0.32.1; option rules in kubernetes/apimachinery
`pkg/apis/meta/v1/validation/validation.go` @v0.32.1): `fieldManager` at most 128 printable bytes, required
for apply; `force` only on apply; `fieldValidation` Ignore, Warn (the default: unknown fields are dropped
with a `Warning` header) or Strict (400). Custom resources take no strategic merge patch (415,
kubernetes/apiextensions-apiserver `pkg/apiserver/customresource_handler.go`).
Not supported (answered with a Status error, never silently ignored): watch, dryRun, JSON patch.
Strategic merge patches are treated as JSON merge patches (equal for maps; lists are replaced).
"""

from __future__ import annotations

import io
import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from . import errors, objectmeta, release, selectors, ssa
from .catalog import ResourceType
from .twin import KubeTwin

JSON_TYPES = ("application/json", "application/yaml")
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
PATCH_TYPES = ["application/json-patch+json", MERGE, STRATEGIC, APPLY]
CUSTOM_PATCH_TYPES = ["application/json-patch+json", MERGE, APPLY]
VERB_OPTIONS = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}
MANAGER_MAX = 128


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    try:
        try:
            body = json.loads(raw or b"null")  # clients mostly send JSON, which is also valid YAML
        except ValueError:
            if content_type not in (APPLY, "application/yaml"):
                raise
            body = YAML(typ="safe", pure=True).load(io.BytesIO(raw))
    except (ValueError, YAMLError) as e:
        raise errors.bad_request(f"error decoding request body: {e}") from e
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request must be an object")
    return body


def _not_found() -> errors.ApiStatusError:
    return errors.ApiStatusError(404, "NotFound", "the server could not find the requested resource")


def route(twin: KubeTwin, parts: list[str]) -> tuple[ResourceType, str, str | None, str | None, bool]:
    """(type, version, namespace, name, status subresource) for a resource path, or 404 NotFound."""
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise _not_found()
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and twin.catalog.by_plural(group, version, rest[2]):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3 or (len(rest) == 3 and rest[2] != "status"):
        raise _not_found()
    rt = twin.catalog.by_plural(group, version, rest[0])
    if rt is None or (rt.namespaced and namespace is None and len(rest) > 1):
        raise _not_found()
    name = rest[1] if len(rest) > 1 else None
    return rt, version, namespace, name, len(rest) == 3


def check_options(params: Any, verb: str, content_type: str = "") -> str:
    """The request's field validation directive, or 422 Invalid naming each bad option."""
    causes: list[tuple[str, str]] = []
    manager = params.get("fieldManager") or ""
    if verb == "patch" and content_type == APPLY and not manager:
        causes.append(("fieldManager", "Required value: is required for apply patch"))
    if verb == "patch" and content_type != APPLY and "force" in params:
        causes.append(("force", "Forbidden: may not be specified for non-apply patch"))
    if len(manager.encode()) > MANAGER_MAX:
        causes.append(("fieldManager", f"Too long: may not be more than {MANAGER_MAX} bytes"))
    for i, ch in enumerate(manager):
        if not ch.isprintable():
            bad = f"invalid character U+{ord(ch):04X} (at position {i})"
            causes.append(("fieldManager", objectmeta.invalid(manager, bad)))
    directive = params.get("fieldValidation") or ""
    if directive not in ("", "Ignore", "Warn", "Strict"):
        supported = 'supported values: "", "Ignore", "Strict", "Warn"'
        causes.append(("fieldValidation", f"Unsupported value: {json.dumps(directive)}: {supported}"))
    if causes:
        raise errors.invalid_kind("meta.k8s.io", VERB_OPTIONS[verb], "", causes)
    return directive or "Warn"


def _strict(twin: KubeTwin, rt: ResourceType, body: dict[str, Any], directive: str, prefix: str) -> list[str]:
    """Unknown fields: 400 under Strict, else the Warning headers the API server adds."""
    unknown = twin.store.codec.unknown_fields(rt, body) if directive != "Ignore" else []
    if unknown and directive == "Strict":
        found = ", ".join(f'unknown field "{u}"' for u in unknown)
        raise errors.bad_request(f"{prefix}strict decoding error: {found}")
    return [f'299 - "unknown field \\"{u}\\""' for u in unknown]


def _answer(obj: Any, code: int = 200, warnings: list[str] | None = None) -> JSONResponse:
    response = JSONResponse(obj, status_code=code)
    for warning in warnings or []:
        response.headers.append("Warning", warning)
    return response


def evict(twin: KubeTwin, namespace: str, name: str, raw: bytes, content_type: str) -> Response:
    """pods/<name>/eviction: the body must be an Eviction naming that pod (kubernetes/kubernetes
    `pkg/registry/core/pod/storage/eviction.go` @v1.32.0 `Create`)."""
    body = parse_body(raw, content_type)
    meta = body.get("metadata") or {}
    if body.get("kind") not in (None, "Eviction"):
        raise errors.bad_request(f"not a Eviction object: {body.get('kind')}")
    if meta.get("namespace") and meta["namespace"] != namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    if meta.get("name") != name:
        raise errors.bad_request("name in URL does not match name in Eviction object")
    return _answer(twin.evict(namespace, name), 201)


def handle(twin: KubeTwin, request: Request, parts: list[str], raw: bytes) -> Response:
    params, method = request.query_params, request.method
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    rt, version, namespace, name, status = route(twin, parts)
    if params.get("watch") in ("true", "1"):
        raise errors.method_not_allowed("watch is not supported by the lab's Kubernetes twin")
    if params.get("dryRun"):
        raise errors.bad_request("dryRun is not supported by the lab's Kubernetes twin")
    manager = params.get("fieldManager") or request.headers.get("user-agent", "unknown").split("/")[0]
    store = twin.store
    if method == "GET" and name is None:
        wanted = selectors.selecting(params, rt.kind, rt.group, release.minor_number(twin.kubernetes_version))
        items = [o for o in store.list(rt, namespace, version) if wanted(o)]
        if not rt.schemas:  # built-in lists omit the items' apiVersion/kind, as the real server does
            items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items]
        meta = {"resourceVersion": str(store.revision)}
        return _answer(
            {"kind": f"{rt.kind}List", "apiVersion": rt.api_version(version), "metadata": meta} | {"items": items}
        )
    if method == "GET":
        assert name is not None
        return _answer(store.get(rt, namespace, name, version))
    verb = "create" if method == "POST" and name is None and not status else "update" if method == "PUT" else ""
    if verb and (verb == "create" or name is not None):
        if content_type not in JSON_TYPES:
            raise errors.unsupported_media_type(list(JSON_TYPES))
        directive = check_options(params, verb)
        body = parse_body(raw, content_type)
        store.codec.check_body(rt, body)
        gv = str(body.get("apiVersion") or rt.api_version(version)).rpartition("/")[2]
        warnings = _strict(twin, rt, body, directive, f'{rt.kind} in version "{gv}" cannot be handled as a {rt.kind}: ')
        if name is None:
            return _answer(store.create(rt, namespace, body, manager), 201, warnings)
        return _answer(store.replace(rt, namespace, name, body, manager, status), 200, warnings)
    if method == "PATCH" and name is not None:
        if content_type not in (CUSTOM_PATCH_TYPES if rt.schemas else PATCH_TYPES):
            raise errors.unsupported_media_type(CUSTOM_PATCH_TYPES if rt.schemas else PATCH_TYPES)
        directive = check_options(params, "patch", content_type)
        body = parse_body(raw, content_type)
        if content_type == APPLY:
            existed = store.find(rt, namespace, name) is not None
            force = params.get("force") in ("true", "1")
            obj = store.apply(rt, namespace, name, body, params["fieldManager"], force, status)
            return _answer(obj, 200 if existed else 201)
        if content_type in (MERGE, STRATEGIC):
            current = store.find(rt, namespace, name)
            if current is not None:
                store.codec.check_patched(rt, ssa.merge_patch(current, body))
            warnings = _strict(twin, rt, body, directive, "")
            return _answer(store.merge_patch(rt, namespace, name, body, manager, status), 200, warnings)
        raise errors.ApiStatusError(415, "UnsupportedMediaType", "JSON patch is not supported by the lab's twin")
    if method == "DELETE" and name is not None:
        return _answer(store.delete(rt, namespace, name))
    raise errors.method_not_allowed()
