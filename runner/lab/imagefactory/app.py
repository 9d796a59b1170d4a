"""The Image Factory twin: the HTTP frontend of siderolabs/image-factory (community edition) on localhost.

Answers mirror the real handlers (internal/frontend/http): errors are plain text with a trailing newline
(Go's http.Error), invalid schematics are 400 with the YAML decoder's message, unknown schematics and
Talos versions 404, Enterprise-only suffixes 402, anything unexpected 500 "internal server error".
Like the real factory, POST /schematics does not check extension names; an unknown official extension
fails when an image is requested (400 `official extension "x" is not available for Talos version v…`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re

from fastapi import FastAPI, Request, Response

from runner.lab.imagefactory.canonical import InvalidSchematic, canonical_yaml, decode, schematic_id
from runner.lab.imagefactory.images import InvalidAssetPath, content_type, image_bytes, parse_asset_path
from runner.lab.imagefactory.state import FactoryState

_SEMVER = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")


def _text(message: str, status: int) -> Response:
    headers = {"X-Content-Type-Options": "nosniff"}
    return Response(message + "\n", status, media_type="text/plain; charset=utf-8", headers=headers)


def _json(value: object, status: int = 200) -> Response:
    # Go's json.Encoder: compact, HTML-escaped, newline-terminated.
    body = json.dumps(value, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e") + "\n"
    return Response(body, status, media_type="application/json")


def create_app(state: FactoryState | None = None) -> FastAPI:
    st = state or FactoryState()
    app = FastAPI(title="Image Factory twin", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.factory = st

    @app.middleware("http")
    async def faults_and_log(request: Request, call_next):  # type: ignore[no-untyped-def]
        path = request.url.path
        if st.faults.latency:
            await asyncio.sleep(st.faults.latency)
        with st.lock:
            failure = st.faults.take_failure(path)
        response = _text("internal server error", failure) if failure else await call_next(request)
        st.record(request.method, path, response.status_code)
        return response

    @app.post("/schematics")
    async def create_schematic(request: Request) -> Response:
        try:
            schematic = decode(await request.body())
        except (InvalidSchematic, UnicodeDecodeError) as exc:
            return _text(str(exc), 400)
        if schematic.get("owner"):
            return _text("owner field is only supported in Enterprise edition", 400)
        canonical = canonical_yaml(schematic)
        sid = schematic_id(canonical)
        with st.lock:
            st.schematics.setdefault(sid, canonical)
        return _json({"id": sid, "schematic": canonical.decode()}, 201)

    @app.get("/schematics/{sid}")
    async def get_schematic(sid: str) -> Response:
        with st.lock:
            canonical = st.schematics.get(sid)
        if canonical is None:
            return _text("schematic not found", 404)
        return Response(canonical, 200, media_type="application/yaml")

    @app.get("/versions")
    async def versions() -> Response:
        return _json(list(st.versions))

    @app.get("/version/{version}/extensions/official")
    async def extensions(version: str) -> Response:
        tag = version if version.startswith("v") else "v" + version
        if not _SEMVER.fullmatch(tag[1:]):
            return _text("internal server error", 500)
        if tag not in st.versions:
            return _text(f"version {tag} is not available", 404)
        return _json([_extension_info(name) for name in st.extensions_for(tag)])

    @app.api_route("/image/{sid}/{version}/{path}", methods=["GET", "HEAD"])
    async def image(sid: str, version: str, path: str, request: Request) -> Response:
        return _image(st, sid, version, path, request)

    return app


def _extension_info(name: str) -> dict[str, str]:
    # Refs and digests are placeholders derived from the name: the twin has no registry behind it.
    digest = "sha256:" + hashlib.sha256(name.encode()).hexdigest()
    return {"name": name, "ref": f"ghcr.io/{name}:twin", "digest": digest, "author": "Sidero Labs", "description": ""}


def _image(st: FactoryState, sid: str, version: str, path: str, request: Request) -> Response:
    """handleImage: suffixes, schematic, version, profile path, extensions, then the asset itself."""
    checksum = next((s for s in (".sha512", ".sha256") if path.endswith(s)), "")
    if path.endswith(".sigstore.json"):
        return _text("enterprise signing is not enabled: signature endpoint is not available", 402)
    if checksum and not st.checksums:
        return _text("enterprise not enabled: checksum endpoint is not available", 402)
    asset = path.removesuffix(checksum)
    with st.lock:
        canonical = st.schematics.get(sid)
    if canonical is None:
        return _text(f'schematic ID "{sid}" not found', 404)
    tag = version if version.startswith("v") else "v" + version
    if not _SEMVER.fullmatch(tag[1:]):
        return _text("internal server error", 500)  # the real handler does not classify bad versions
    try:
        parse_asset_path(asset)
    except InvalidAssetPath as exc:
        return _text(str(exc), 400)
    if tag not in st.versions:
        return _text(f"version {tag} is not available", 404)
    extensions = (decode(canonical).get("customization") or {}).get("systemExtensions") or {}
    available = st.extensions_for(tag)
    for name in extensions.get("officialExtensions") or []:
        if name not in available:
            return _text(f'official extension "{name}" is not available for Talos version {tag}', 400)
    filename = request.query_params.get("filename") or asset
    data = image_bytes(sid, tag, asset)
    if checksum:
        algorithm = hashlib.sha512 if checksum == ".sha512" else hashlib.sha256
        body = f"{algorithm(data).hexdigest()}  {filename}\n".encode()
        headers = {"Content-Disposition": f'attachment; filename="{filename}{checksum}"'}
        return Response(body if request.method == "GET" else b"", 200, headers, "text/plain; charset=utf-8")
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Content-Length": str(len(data))}
    return Response(data if request.method == "GET" else b"", 200, headers, content_type(asset))
