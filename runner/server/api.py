"""The JSON API (runs, clusters, queue) and the probes: /healthz (process up), /readyz (can do work)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse, Response

from runner.engine.reconcile.backups import BackupStore
from runner.engine.service.journal import RunFilter
from runner.server.metrics import CONTENT_TYPE_LATEST
from runner.server.service import Service


def router(service: Service) -> APIRouter:
    api = APIRouter()

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz")
    def readyz() -> JSONResponse:
        checks = service.ready()
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503
        )

    @api.get("/metrics")
    def metrics() -> Response:
        return Response(service.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @api.get("/api/clusters")
    def clusters() -> dict[str, Any]:
        queued: dict[str, list[dict[str, Any]]] = {}
        for item in service.queue.items():
            queued.setdefault(item["cluster"], []).append(item)
        known = service.journal.clusters()
        names = {c["name"] for c in known}
        known += [{"name": n, "last_run": None, "last_applied_commit": None} for n in sorted(queued) if n not in names]
        for cluster in known:
            cluster["queue"] = queued.get(cluster["name"], [])
        return {"clusters": known, "branch": service.settings.branch, "repo": service.target.full_name}

    @api.get("/api/runs")
    def runs(where: Annotated[RunFilter, Depends()], limit: int = 50) -> dict[str, Any]:
        return {"runs": service.journal.runs(where, limit=max(1, min(limit, 500)))}

    @api.get("/api/runs/{run_id}")
    def run(run_id: int) -> dict[str, Any]:
        found = service.journal.run(run_id)
        if found is None:
            raise HTTPException(status_code=404, detail=f"run {run_id} not found")
        return found

    @api.get("/api/queue")
    def queue() -> dict[str, Any]:
        return {"depth": service.queue.depth(), "items": service.queue.items()}

    @api.get("/api/deliveries")
    def deliveries(limit: int = 50) -> dict[str, Any]:
        return {"deliveries": service.deliveries.recent(max(1, min(limit, 500)))}

    @api.get("/api/backups")
    def backups(cluster: str | None = None) -> dict[str, Any]:
        """etcd snapshots in backup_dir, newest first (metadata only: the snapshots stay where they are)."""
        found = BackupStore(service.settings.backup_dir).snapshots(cluster)
        return {"backups": [b.to_json() for b in found]}

    return api
