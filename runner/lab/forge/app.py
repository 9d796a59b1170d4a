"""The forge twin app: GitHub routes at the root (like api.github.com), Gitea/Forgejo under /api/v1.

`/_lab/*` lets a test or the lab seed repos/PRs/tokens and read back what the runner reported.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from runner.lab.forge import gitea, github
from runner.lab.forge.state import ForgeState


class Seed(BaseModel):
    repo: str
    pulls: list[int] = []
    tokens: dict[str, str] = {}
    roles: dict[str, str] = {}  # login -> "write" | "read" (default write)


class Limits(BaseModel):
    limit: int | None = None
    window: float | None = None
    secondary: float = 0.0


class Outage(BaseModel):
    seconds: float


def create_forge_app(state: ForgeState | None = None) -> FastAPI:
    state = state or ForgeState()
    app = FastAPI(title="forge twin", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.forge = state
    app.include_router(github.router(state))
    app.include_router(gitea.router(state))

    @app.middleware("http")
    async def outage(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if state.limits.down() and not request.url.path.startswith("/_lab/"):
            return JSONResponse({"message": "Service Unavailable"}, status_code=503)
        return await call_next(request)

    @app.post("/_lab/seed")
    def seed(body: Seed) -> dict[str, str]:
        state.add_repo(body.repo)
        for number in body.pulls:
            state.add_pull(body.repo, number)
        for token, login in body.tokens.items():
            state.add_token(token, login, body.roles.get(login, "write"))
        return {"status": "ok"}

    @app.post("/_lab/limits")
    def limits(body: Limits) -> dict[str, str]:
        state.limits.configure(limit=body.limit, window=body.window, secondary=body.secondary)
        return {"status": "ok"}

    @app.post("/_lab/outage")
    def outage_for(body: Outage) -> dict[str, str]:
        state.limits.outage(body.seconds)
        return {"status": "ok"}

    @app.get("/_lab/statuses")
    def statuses() -> list[dict[str, Any]]:
        return [asdict(s) for s in state.statuses]

    @app.get("/_lab/comments")
    def comments() -> list[dict[str, Any]]:
        return [asdict(c) for c in state.comments.values()]

    return app
