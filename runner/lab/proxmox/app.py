"""The FastAPI app: one catch-all route under /api2/json doing what pveproxy + the REST handler do.

Order per request, as pve-manager's HTTPServer.pm rest_handler: auth (401, empty body) -> find handler
(501) -> merge URL and body parameters -> the endpoint's permissions from apidata.js (403) -> schema
validation (400 + `errors`) -> node check -> handler (500 with its message, or 403 from its own checks).
Replies are `{"data": ...}`. An error's message is the HTTP status line's reason phrase; the JSON body is
`{"data": null}` plus `errors` for bad parameters, and, from PVE 8.4 on, `message` (see versions.py).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from runner.lab.proxmox.errors import PveError, param_error
from runner.lab.proxmox.faults import Call
from runner.lab.proxmox.reason import REASON_HEADER, status_reason
from runner.lab.proxmox.routes import HANDLERS, WithTotal
from runner.lab.proxmox.schema import find_endpoint
from runner.lab.proxmox.state import ProxmoxTwinState
from runner.lab.proxmox.validate import validate_params
from runner.lab.proxmox.versions import agent_permissions, download_content_types, error_message_in_body

API_PREFIX = "/api2/json"


def _authenticate(state: ProxmoxTwinState, header: str | None) -> tuple[str | None, str]:
    """(token id, "") when the token is valid, else (None, PVE's 401 reason)."""
    match = re.search(r"(?:^|\s)PVEAPIToken(?:=| )([^;]*)", header or "")
    if not match:
        return None, "No ticket"
    token_id, _, secret = match.group(1).partition("=")
    known = state.tokens.get(token_id)
    if known is None or known != secret or not re.fullmatch(r"[^@!\s]+@[^@!\s]+![A-Za-z][A-Za-z0-9._-]+", token_id):
        return None, "Authentication failed!"
    return token_id, ""


async def _request_params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    if body:
        if request.headers.get("content-type", "").startswith("application/json"):
            params.update(json.loads(body))
        else:
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
    return params


def _error(state: ProxmoxTwinState, exc: PveError) -> JSONResponse:
    body: dict[str, Any] = {"data": None}
    if exc.errors:
        body["errors"] = exc.errors
    if error_message_in_body(state.version):
        body["message"] = exc.message
    # pveproxy drops keep-alive on every reply >= 400
    headers = {"Connection": "close", REASON_HEADER: status_reason(exc.message)}
    return JSONResponse(body, status_code=exc.status, headers=headers)


def _schema_for(state: ProxmoxTwinState, template: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The vendored (9.x) schema, with the download-url content types of the imitated release."""
    if template.endswith("/download-url"):
        properties = dict(parameters["properties"])
        properties["content"] = dict(properties["content"], enum=download_content_types(state.version))
        return dict(parameters, properties=properties)
    return parameters


def _dispatch(state: ProxmoxTwinState, method: str, path: str, params: dict[str, Any], user: str) -> Any:
    found = find_endpoint(method, path)
    if found is None:
        raise PveError(f"Method '{method} {path}' not implemented", 501)
    endpoint, url_params = found
    for key, value in url_params.items():
        if key in params and str(params[key]) != value:
            raise param_error({key: "duplicate parameter (already defined in URI) with conflicting values!"})
        params[key] = value
    permissions = endpoint.permissions
    if "/agent/" in endpoint.template and permissions is not None:
        permissions = agent_permissions(state.version, permissions)
    with state.lock:
        state.access.check_api(user, permissions, params)
    if errors := validate_params(params, _schema_for(state, endpoint.template, endpoint.parameters)):
        raise param_error(errors)
    node = url_params.get("node")
    if node is not None and node != state.node:
        raise PveError(
            f"hostname lookup '{node}' failed - failed to get address info for: {node}: Name or service not known"
        )
    with state.lock:
        state.tick()
        data = HANDLERS[(method, endpoint.template)](state, params, user)
        if (
            isinstance(data, str)
            and data.startswith("UPID:")
            and (message := state.faults.take_task_error(method, path))
        ):
            _fail_task(state, data, message)
    return data


def _fail_task(state: ProxmoxTwinState, upid: str, message: str) -> None:
    task = state.tasks.get(upid)
    if task is None:
        return

    def fail(_: Any) -> None:
        raise PveError(message)

    task.work = fail


def create_app(state: ProxmoxTwinState | None = None) -> FastAPI:
    app = FastAPI(title="Proxmox VE twin", docs_url=None, redoc_url=None, openapi_url=None)
    # looked up per request, so a running twin can be reset by assigning a fresh state
    app.state.twin = state or ProxmoxTwinState()

    @app.api_route(API_PREFIX + "/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def api(request: Request, path: str) -> Response:
        twin: ProxmoxTwinState = request.app.state.twin
        method, rel = request.method, "/" + path
        params = await _request_params(request)
        if delay := twin.faults.latency(method, rel):
            await asyncio.sleep(delay)
        response = await _answer(twin, request, method, rel, params)
        twin.calls.record(Call(method, rel, params, response.status_code))
        return response

    return app


async def _answer(twin: ProxmoxTwinState, request: Request, method: str, rel: str, params: dict[str, Any]) -> Response:
    user, reason = _authenticate(twin, request.headers.get("authorization"))
    if user is None:
        if twin.delays.auth_failure:
            await asyncio.sleep(twin.delays.auth_failure)
        # PVE puts the reason ("No ticket", "Authentication failed!") in the status line only; the body is empty
        return Response(status_code=401, headers={"Connection": "close", REASON_HEADER: reason})
    if fault := twin.faults.take_failure(method, rel):
        return _error(twin, PveError(fault.fail_message, fault.fail_status))
    try:
        data = _dispatch(twin, method, rel, dict(params), user)
    except PveError as exc:
        return _error(twin, exc)
    if isinstance(data, WithTotal):
        return JSONResponse({"data": data.data, "total": data.total})
    return JSONResponse({"data": data})
