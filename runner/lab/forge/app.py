"""The forge twin app: GitHub routes at the root (like api.github.com), Gitea/Forgejo under /api/v1.

`/_lab/*` lets a test or the lab seed repos/PRs/tokens and read back what the runner reported.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from runner.lab.forge import gitea, github
from runner.lab.forge.state import ForgeState


class Seed(BaseModel):
    repo: str
    pulls: list[int] = []
    tokens: dict[str, str] = {}


def create_forge_app(state: ForgeState | None = None) -> FastAPI:
    state = state or ForgeState()
    app = FastAPI(title="forge twin", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.forge = state
    app.include_router(github.router(state))
    app.include_router(gitea.router(state))

    @app.post("/_lab/seed")
    def seed(body: Seed) -> dict[str, str]:
        state.add_repo(body.repo)
        for number in body.pulls:
            state.add_pull(body.repo, number)
        for token, login in body.tokens.items():
            state.add_token(token, login)
        return {"status": "ok"}

    @app.get("/_lab/statuses")
    def statuses() -> list[dict[str, Any]]:
        return [asdict(s) for s in state.statuses]

    @app.get("/_lab/comments")
    def comments() -> list[dict[str, Any]]:
        return [asdict(c) for c in state.comments.values()]

    return app
