"""The twin's HTTP surface: the REST paths and shapes of kube-apiserver that clients such as lightkube use.

Paths: /version, /api, /api/v1, /apis, /apis/<group>/<version>, and for every served resource
[/api/v1 | /apis/<g>/<v>][/namespaces/<ns>]/<plural>[/<name>[/status]]. Errors are metav1.Status.
Not supported (answered with a Status error, never silently ignored): watch, dryRun, JSON patch.
Strategic merge patches are treated as JSON merge patches (equal for maps; lists are replaced).
Lab endpoints under /lab: POST /lab/nodes (a node joins), GET /lab/state, POST /lab/reconcile.
"""

from __future__ import annotations

import io
import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from . import errors
from .catalog import ResourceType
from .twin import KubeTwin

JSON_TYPES = ("application/json", "application/yaml")
APPLY = "application/apply-patch+yaml"
MERGE_TYPES = ("application/merge-patch+json", "application/strategic-merge-patch+json")


class NodeJoin(BaseModel):
    name: str
    ip: str
    role: str = "worker"


def _status_response(e: errors.ApiStatusError) -> JSONResponse:
    return JSONResponse(e.body(), status_code=e.code)


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
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


def _route(twin: KubeTwin, parts: list[str]) -> tuple[ResourceType, str, str | None, str | None, bool]:
    """(type, version, namespace, name, status subresource) for a resource path, or 404 NotFound."""
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise errors.ApiStatusError(404, "NotFound", "the server could not find the requested resource")
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and twin.catalog.by_plural(group, version, rest[2]):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3 or (len(rest) == 3 and rest[2] != "status"):
        raise errors.ApiStatusError(404, "NotFound", "the server could not find the requested resource")
    rt = twin.catalog.by_plural(group, version, rest[0])
    if rt is None:
        raise errors.ApiStatusError(404, "NotFound", "the server could not find the requested resource")
    if rt.namespaced and namespace is None and len(rest) > 1:
        raise errors.ApiStatusError(404, "NotFound", "the server could not find the requested resource")
    name = rest[1] if len(rest) > 1 else None
    return rt, version, namespace, name, len(rest) == 3


def _matches(labels: dict[str, str], selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def _fields_of(obj: dict[str, Any]) -> dict[str, str]:
    """The fields a field selector may name (the real server supports a few per type; these are the common ones)."""
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    fields = {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", "")}
    if obj.get("kind") == "Pod":
        fields |= {"spec.nodeName": spec.get("nodeName", ""), "status.phase": status.get("phase", "")}
    if obj.get("kind") == "Node":
        fields["spec.unschedulable"] = str(bool(spec.get("unschedulable"))).lower()
    return fields


def create_app(twin: KubeTwin) -> FastAPI:
    app = FastAPI(title="Kubernetes API twin", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Response:
        twin.requests.append(f"{request.method} {request.url.path}")
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or token not in twin.options.tokens:
                return _status_response(errors.unauthorized())
        elif request.url.scheme != "https" and twin.options.tokens:
            # Over plain HTTP there is no client certificate, so a token is the only credential.
            return _status_response(errors.unauthorized())
        return await call_next(request)  # type: ignore[no-any-return]

    @app.get("/version")
    def version() -> dict[str, Any]:
        v = twin.options.kubernetes_version
        major, minor, _ = v.lstrip("v").split(".")
        return {
            "major": major,
            "minor": minor,
            "gitVersion": v,
            "gitCommit": "lab",
            "gitTreeState": "clean",
            "buildDate": "2025-01-15T14:31:55Z",
            "goVersion": "go1.23.4",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    @app.get("/healthz")
    @app.get("/readyz")
    @app.get("/livez")
    def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/api")
    def api_versions(request: Request) -> dict[str, Any]:
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": request.url.netloc}],
        }

    @app.get("/apis")
    def api_groups() -> dict[str, Any]:
        groups = []
        for name, versions in sorted(twin.catalog.groups().items()):
            gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
            groups.append({"name": name, "versions": gvs, "preferredVersion": gvs[0]})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    @app.post("/lab/nodes")
    def join_node(node: NodeJoin) -> dict[str, Any]:
        return twin.add_node(node.name, node.ip, node.role)

    @app.get("/lab/state")
    def lab_state() -> dict[str, Any]:
        twin.reconcile()
        return twin.state()

    @app.post("/lab/reconcile")
    def lab_reconcile() -> dict[str, Any]:
        twin.reconcile()
        return twin.state()

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def resource(path: str, request: Request) -> Response:
        raw = await request.body()
        try:
            return _handle(twin, request, path, raw)
        except errors.ApiStatusError as e:
            return _status_response(e)
        except Exception as e:
            return _status_response(errors.ApiStatusError(500, "InternalError", f"Internal error occurred: {e!r}"))

    return app


def _handle(twin: KubeTwin, request: Request, path: str, raw: bytes) -> Response:
    twin.reconcile()
    parts = [p for p in path.split("/") if p]
    params = request.query_params
    method = request.method
    if method == "GET" and (parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis")):
        group, version = ("", "v1") if parts[0] == "api" else (parts[1], parts[2])
        resources = twin.catalog.resource_list(group, version)
        if not resources:
            raise errors.ApiStatusError(404, "NotFound", "the server could not find the requested resource")
        gv = f"{group}/{version}" if group else version
        return JSONResponse({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
    if (
        method == "POST"
        and len(parts) == 7
        and parts[:3] == ["api", "v1", "namespaces"]
        and parts[4] == "pods"
        and parts[6] == "eviction"
    ):
        return JSONResponse(twin.evict(parts[3], parts[5]), status_code=201)
    rt, version, namespace, name, status = _route(twin, parts)
    if params.get("watch") in ("true", "1"):
        raise errors.method_not_allowed("watch is not supported by the lab's Kubernetes twin")
    if params.get("dryRun"):
        raise errors.bad_request("dryRun is not supported by the lab's Kubernetes twin")
    manager = params.get("fieldManager") or request.headers.get("user-agent", "unknown").split("/")[0]
    store = twin.store
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if method == "GET" and name is None:
        items = store.list(rt, namespace, version)
        if params.get("labelSelector"):
            items = [o for o in items if _matches(o["metadata"].get("labels") or {}, params["labelSelector"])]
        if params.get("fieldSelector"):
            items = [o for o in items if _matches(_fields_of(o), params["fieldSelector"])]
        if not rt.schemas:  # built-in lists omit the items' apiVersion/kind, as the real server does
            items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items]
        return JSONResponse(
            {
                "kind": f"{rt.kind}List",
                "apiVersion": rt.api_version(version),
                "metadata": {"resourceVersion": str(store.revision)},
                "items": items,
            }
        )
    if method == "GET":
        assert name is not None
        return JSONResponse(store.get(rt, namespace, name, version))
    if method == "POST" and name is None and not status:
        if content_type not in JSON_TYPES:
            raise errors.unsupported_media_type(content_type)
        return JSONResponse(store.create(rt, namespace, _parse_body(raw, content_type), manager), status_code=201)
    if name is None:
        raise errors.method_not_allowed()
    if method == "PUT":
        if content_type not in JSON_TYPES:
            raise errors.unsupported_media_type(content_type)
        return JSONResponse(store.replace(rt, namespace, name, _parse_body(raw, content_type), manager, status))
    if method == "PATCH":
        body = _parse_body(raw, content_type)
        if content_type == APPLY:
            if not params.get("fieldManager"):
                raise errors.bad_request("PATCH apply requires fieldManager to be set")
            existed = store.find(rt, namespace, name) is not None
            force = params.get("force") in ("true", "1")
            obj = store.apply(rt, namespace, name, body, params["fieldManager"], force, status)
            return JSONResponse(obj, status_code=200 if existed else 201)
        if content_type in MERGE_TYPES:
            return JSONResponse(store.merge_patch(rt, namespace, name, body, manager, status))
        raise errors.unsupported_media_type(content_type)
    if method == "DELETE":
        return JSONResponse(store.delete(rt, namespace, name))
    raise errors.method_not_allowed()
