"""POST /hooks/{github,gitea,generic}: authenticate, parse, decide, queue durably, answer 202 fast.

Every answer is deliberate: 413 too large, 401 unauthenticated or stale, 400 a payload the runner cannot
read (saying what is wrong), 503 when the service cannot queue durably right now (the forge redelivers;
nothing was recorded, so the redelivery is not a "duplicate"), 200 duplicate/pong, 202 queued/ignored.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from runner.engine.service.database import STORE_ERRORS
from runner.server.events import Decision, decide, decide_generic
from runner.server.payloads import BadPayload, parse_object
from runner.server.scheduler import LAST_SEEN_HEAD
from runner.server.service import Service
from runner.server.signatures import BodyTooLarge, Refused, Source, authenticate, read_capped

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30  # what a 503 asks a sender that honours Retry-After to wait

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


def _reply(status_code: int, headers: dict[str, str] | None = None, **body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, headers=headers)


def router(service: Service) -> APIRouter:
    api = APIRouter()
    metrics = service.metrics
    settings = service.settings

    def reject(code: int, reason: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
        metrics.webhook_rejections.labels(reason).inc()
        return _reply(code, headers, status="rejected", reason=detail)

    async def handle(request: Request, source: Source) -> JSONResponse:
        started = time.perf_counter()
        try:
            body = await read_capped(request, settings.max_body_bytes)
        except BodyTooLarge:
            return reject(413, "too_large", f"body larger than {settings.max_body_bytes} bytes")
        try:
            raw = authenticate(source, request.headers, body, settings.webhook_secret, settings.replay_window)
            payload = parse_object(raw)
        except Refused as exc:
            return reject(401, exc.reason, str(exc))
        except BadPayload as exc:
            return reject(400, "bad_payload", str(exc))
        event = "push" if source == "generic" else (_first(request, EVENT_HEADERS[source]) or "")
        # Without a delivery id the body itself identifies the delivery (a byte-identical replay is a replay).
        delivery = _first(request, DELIVERY_HEADERS[source]) or "sha256:" + hashlib.sha256(body).hexdigest()
        try:
            if source == "generic":
                decision = decide_generic(payload, service.target, delivery)
            else:
                decision = decide(event, payload, service.target, delivery)
        except BadPayload as exc:
            return reject(400, "bad_payload", str(exc))
        try:
            reply = await run_in_threadpool(_take, service, source, event, delivery, decision)
        except STORE_ERRORS as exc:  # locked, full, read-only...: not taken, so the forge must redeliver
            log.warning("webhook %s %s not queued: database: %s", source, delivery, exc)
            retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
            return reject(503, "unavailable", "the runner cannot queue durably right now; redeliver later", retry)
        status = str(reply["status"])
        metrics.webhook_deliveries.labels(source, status).inc()
        metrics.webhook_seconds.labels(source).observe(time.perf_counter() - started)
        code = 200 if status in ("pong", "duplicate") else 202
        return _reply(code, delivery=delivery, **reply)

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


def _take(service: Service, source: Source, event: str, delivery: str, decision: Decision) -> dict[str, Any]:
    """Queue the decision and record the delivery id in one transaction: both happen, or neither."""
    with service.intake_db.transaction() as conn:
        service.deliveries.hold(conn, delivery, source)
        if service.deliveries.seen(delivery, source):
            return {"status": "duplicate"}
        reply = _apply(service, decision)
        service.deliveries.record(delivery, source, event, decision.status, decision.reason)
    return reply


def _apply(service: Service, decision: Decision) -> dict[str, Any]:
    reply: dict[str, Any] = {"status": decision.status, "reason": decision.reason}
    if decision.close_pr is not None:
        reply["dropped"] = service.intake_queue.drop_pending(pr=decision.close_pr)
    if decision.request is not None:
        request = decision.request
        queued = service.intake_queue.enqueue(
            request, every_cluster=decision.every_cluster, settle=service.settings.settle_seconds
        )
        if request.trigger == "push" and request.commit:
            service.intake_db.put(LAST_SEEN_HEAD, request.commit)  # the poll fallback need not queue it again
        reply.update(queue_id=queued.id, coalesced=queued.coalesced)
    return reply
