"""The web UI of `runner serve`: server-rendered pages over the journal and the recorded cluster snapshots.

Every page reads fully without JavaScript; while a run is going, a small script (or, without scripts,
a meta refresh) re-fetches a fragment until the run is finished.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from runner.engine.reconcile.backups import BackupStore
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.service.journal import RESULTS, RunFilter
from runner.engine.service.queue import ANY_CLUSTER
from runner.server.service import Service
from runner.server.ui.clusterview import ClusterView, cluster_view
from runner.server.ui.planview import latest_plan_per_pr, plan_counts, plan_view
from runner.server.ui.templating import HERE, render

STATIC = {"ui.css": "text/css; charset=utf-8", "live.js": "text/javascript; charset=utf-8"}
MODES = ("apply", "plan")
TRIGGERS = ("push", "pull_request", "manual", "poll", "drift")
REFRESH_SECONDS = 2
PR_SCAN_LIMIT = 500


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


class BadFilter(ValueError):
    pass


def _int_or_none(value: str | None, name: str) -> int | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise BadFilter(f"{name} must be a whole number, not {value!r}") from None


def error_page(status_code: int, message: str) -> HTMLResponse:
    return render("error.html", status_code=status_code, current="", title="Error", refresh=None, message=message)


def router(service: Service) -> APIRouter:
    ui = APIRouter(include_in_schema=False)
    store = ClusterStateStore(service.settings.store_url)

    def clusters() -> tuple[list[ClusterView], list[dict[str, Any]]]:
        queued: dict[str, list[dict[str, Any]]] = {}
        for item in service.queue.items():
            queued.setdefault(item["cluster"], []).append(item)
        known = {c["name"]: c for c in service.journal.clusters()}
        names = sorted((set(known) | set(store.clusters()) | set(queued)) - {ANY_CLUSTER})
        views = [
            cluster_view(
                name,
                store.snapshot(name),
                (known.get(name) or {}).get("last_run"),
                (known.get(name) or {}).get("last_applied_commit"),
                queued.get(name, []),
            )
            for name in names
        ]
        return views, queued.get(ANY_CLUSTER, [])

    def overview_context() -> dict[str, Any]:
        views, everywhere = clusters()
        busy = bool(everywhere) or any(v.queued or (v.last_run or {}).get("status") == "running" for v in views)
        return {"clusters": views, "everywhere": everywhere, "live": busy, "repo": service.target.full_name}

    @ui.get("/", response_class=HTMLResponse)
    def overview() -> HTMLResponse:
        context = overview_context()
        refresh = REFRESH_SECONDS if context["live"] else None
        return render("clusters.html", current="/", title="Clusters", refresh=refresh, **context)

    @ui.get("/ui/fragments/clusters", response_class=HTMLResponse)
    def overview_fragment() -> HTMLResponse:
        return render("_clusters.html", **overview_context())

    @ui.get("/runs", response_class=HTMLResponse)
    def runs(request: Request) -> HTMLResponse:
        query = request.query_params
        try:
            filters = RunFilter(
                cluster=_blank_to_none(query.get("cluster")),
                mode=_blank_to_none(query.get("mode")),
                result=_blank_to_none(query.get("result")),
                trigger=_blank_to_none(query.get("trigger")),
                pr=_int_or_none(query.get("pr"), "pr"),
            )
            count = max(1, min(_int_or_none(query.get("limit"), "limit") or 50, 500))
        except BadFilter as exc:
            return error_page(400, str(exc))
        found = service.journal.runs(filters, limit=count)
        return render(
            "runs.html",
            current="/runs",
            title="Runs",
            refresh=None,
            runs=found,
            filters=filters,
            limit=count,
            cluster_names=[c["name"] for c in service.journal.clusters()],
            modes=MODES,
            results=RESULTS,
            triggers=TRIGGERS,
        )

    def run_context(run_id: int) -> dict[str, Any] | None:
        run = service.journal.run(run_id)
        if run is None:
            return None
        status = {str(s["step_id"]): str(s["status"]) for s in run["steps"]}
        return {"run": run, "plan": plan_view(run.get("plan_json"), status), "live": run["status"] != "finished"}

    @ui.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_detail(run_id: int) -> HTMLResponse:
        context = run_context(run_id)
        if context is None:
            return error_page(404, f"There is no run {run_id}.")
        refresh = REFRESH_SECONDS if context["live"] else None
        return render("run.html", current="/runs", title=f"Run {run_id}", refresh=refresh, **context)

    @ui.get("/runs/{run_id}/live", response_class=HTMLResponse)
    def run_live(run_id: int) -> HTMLResponse:
        context = run_context(run_id)
        if context is None:
            raise HTTPException(status_code=404, detail=f"run {run_id} not found")
        return render("_run_live.html", **context)

    @ui.get("/prs", response_class=HTMLResponse)
    def prs() -> HTMLResponse:
        latest = latest_plan_per_pr(service.journal.runs(RunFilter(mode="plan"), limit=PR_SCAN_LIMIT))
        rows = [{"run": r, "counts": plan_counts(r.get("plan_json"))} for r in latest]
        return render("prs.html", current="/prs", title="PR plans", refresh=None, rows=rows)

    @ui.get("/backups", response_class=HTMLResponse)
    def backups() -> HTMLResponse:
        found = BackupStore(service.settings.backup_dir).snapshots()
        return render(
            "backups.html",
            current="/backups",
            title="Backups",
            refresh=None,
            backups=found,
            backup_dir=service.settings.backup_dir,
        )

    @ui.get("/ui/static/{name}")
    def static(name: str) -> Response:
        if name not in STATIC:  # a fixed list: no path from the request ever reaches the file system
            raise HTTPException(status_code=404, detail="not found")
        body = (HERE / "static" / name).read_bytes()
        return Response(body, media_type=STATIC[name], headers={"Cache-Control": "max-age=300"})

    return ui
