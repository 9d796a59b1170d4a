"""create_app(settings, run_fn): the FastAPI application of the runner as a service."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from runner.drivers.forge import Forge
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.service.queue import RunRequest
from runner.engine.service.run_context import RunContext, RunFn, RunResult
from runner.engine.service.settings import Settings
from runner.server import api, hooks, ui
from runner.server.access import RequireToken
from runner.server.service import Service, build_service


def create_app(settings: Settings, run_fn: RunFn, *, forge: Forge | None = None) -> FastAPI:
    """The app; its worker and timers start with the ASGI lifespan and stop with it."""
    service = build_service(settings, run_fn, forge)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.start()
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(title="runner", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.service = service
    app.include_router(hooks.router(service))
    app.include_router(api.router(service))
    app.include_router(ui.router(service))
    if settings.api_token is not None:  # required off loopback (Settings refuses to start without it)
        app.add_middleware(
            RequireToken, token=settings.api_token, user=settings.api_user, metrics_open=settings.metrics_open
        )
    return app


def service_of(app: FastAPI) -> Service:
    service: Service = app.state.service
    return service


def engine_run_fn(settings: Settings) -> RunFn:
    """The real reconcile: the engine with its cluster-state store beside the journal.

    Built on the first run: the engine's libraries (cryptography, the drivers' clients) cost an idle
    service memory for nothing, and the first run pays only milliseconds to import them.
    """
    built: list[RunFn] = []
    lock = threading.Lock()

    def run(request: RunRequest, ctx: RunContext) -> RunResult:
        with lock:
            if not built:
                from runner.engine.reconcile.reconciler import Engine
                from runner.engine.service.run_fn import make_run_fn

                built.append(make_run_fn(Engine(settings, ClusterStateStore(settings.store_url))))
        return built[0](request, ctx)

    return run
