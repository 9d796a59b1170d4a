"""The twin's HTTP surface: the REST paths and shapes of kube-apiserver that clients such as lightkube use.

Paths: /version, /api, /api/v1, /apis, /apis/<group>/<version>, and for every served resource
[/api/v1 | /apis/<g>/<v>][/namespaces/<ns>]/<plural>[/<name>[/status]] (the verbs are rest.py's).
Errors are metav1.Status. Lab endpoints under /lab: POST /lab/nodes (a node joins), GET /lab/state, POST /lab/reconcile.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel

from . import errors, rest
from .twin import KubeTwin


class NodeJoin(BaseModel):
    name: str
    ip: str
    role: str = "worker"


def _status_response(e: errors.ApiStatusError) -> JSONResponse:
    return JSONResponse(e.body(), status_code=e.code)


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
        v = twin.kubernetes_version  # the kube-apiserver running now (the lab follows its image)
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
    twin.reconcile_for_api()
    parts = [p for p in path.split("/") if p]
    if request.method == "GET" and (parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis")):
        group, version = ("", "v1") if parts[0] == "api" else (parts[1], parts[2])
        resources = twin.catalog.resource_list(group, version)
        if not resources:
            raise errors.ApiStatusError(404, "NotFound", "the server could not find the requested resource")
        gv = f"{group}/{version}" if group else version
        return JSONResponse({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
    eviction = len(parts) == 7 and parts[:3] == ["api", "v1", "namespaces"] and parts[4::2] == ["pods", "eviction"]
    if request.method == "POST" and eviction:
        content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
        return rest.evict(twin, parts[3], parts[5], raw, content_type)
    return rest.handle(twin, request, parts, raw)
