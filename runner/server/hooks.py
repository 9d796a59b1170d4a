"""POST /hooks/{github,gitea,generic}: authenticate, de-duplicate, decide, queue, answer 202 fast."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from runner.server.events import Decision, decide, decide_generic
from runner.server.scheduler import LAST_SEEN_HEAD
from runner.server.service import Service
from runner.server.signatures import BodyTooLarge, Source, read_capped, signature_of, verify

# (event header, delivery header) per source, in order of preference.
EVENT_HEADERS: dict[Source, tuple[str, ...]] = {
    "github": ("x-github-event",),
    "gitea": ("x-forgejo-event", "x-gitea-event", "x-github-event"),
    "generic": (),
}
DELIVERY_HEADERS: dict[Source, tuple[str, ...]] = {
    "github": ("x-github-delivery",),
    "gitea": ("x-forgejo-delivery", "x-gitea-delivery", "x-github-delivery"),
    "generic": ("x-runner-delivery",),
}


def _first(request: Request, names: tuple[str, ...]) -> str | None:
    for name in names:
        value = request.headers.get(name)
        if value:
            return value
    return None


def _reply(status_code: int, **body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=status_code)


def router(service: Service) -> APIRouter:
    api = APIRouter()
    metrics = service.metrics

    def reject(source: Source, code: int, reason: str, detail: str) -> JSONResponse:
        metrics.webhook_rejections.labels(reason).inc()
        return _reply(code, status="rejected", reason=detail)

    async def handle(request: Request, source: Source) -> JSONResponse:
        started = time.perf_counter()
        try:
            body = await read_capped(request, service.settings.max_body_bytes)
        except BodyTooLarge:
            return reject(source, 413, "too_large", f"body larger than {service.settings.max_body_bytes} bytes")
        signature = signature_of(source, request.headers)
        if signature is None:
            return reject(source, 401, "missing_signature", "missing signature")
        if not verify(service.settings.webhook_secret, body, signature):
            return reject(source, 401, "bad_signature", "invalid signature")
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError:
            return reject(source, 400, "bad_payload", "body is not a JSON object")
        event = "push" if source == "generic" else (_first(request, EVENT_HEADERS[source]) or "")
        # Without a delivery id the body itself identifies the delivery (a byte-identical replay is a replay).
        delivery = _first(request, DELIVERY_HEADERS[source]) or "sha256:" + hashlib.sha256(body).hexdigest()
        if not service.deliveries.first_time(delivery, source, event):
            metrics.webhook_deliveries.labels(source, "duplicate").inc()
            return _reply(200, status="duplicate", delivery=delivery)
        if source == "generic":
            decision = decide_generic(payload, service.target, delivery)
        else:
            decision = decide(event, payload, service.target, delivery)
        reply = _apply(service, decision)
        service.deliveries.outcome(delivery, source, decision.status, decision.reason)
        metrics.webhook_deliveries.labels(source, decision.status).inc()
        metrics.webhook_seconds.labels(source).observe(time.perf_counter() - started)
        return _reply(200 if decision.status == "pong" else 202, delivery=delivery, **reply)

    @api.post("/hooks/github")
    async def github(request: Request) -> JSONResponse:
        return await handle(request, "github")

    @api.post("/hooks/gitea")
    async def gitea(request: Request) -> JSONResponse:
        return await handle(request, "gitea")

    @api.post("/hooks/generic")
    async def generic(request: Request) -> JSONResponse:
        return await handle(request, "generic")

    return api


def _apply(service: Service, decision: Decision) -> dict[str, Any]:
    reply: dict[str, Any] = {"status": decision.status, "reason": decision.reason}
    if decision.close_pr is not None:
        reply["dropped"] = service.queue.drop_pending(pr=decision.close_pr)
    if decision.request is not None:
        request = decision.request
        queued = service.queue.enqueue(
            request, every_cluster=decision.every_cluster, settle=service.settings.settle_seconds
        )
        if request.trigger == "push" and request.commit:
            service.db.put(LAST_SEEN_HEAD, request.commit)  # the poll fallback need not queue it again
        reply.update(queue_id=queued.id, coalesced=queued.coalesced)
    return reply
