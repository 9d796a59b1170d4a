"""The forge twin app: GitHub routes at the root (like api.github.com), Gitea/Forgejo under /api/v1.

`/_lab/*` lets a test or the lab seed repos/PRs/tokens and read back what the runner reported.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from runner.lab.forge.gitea import Gitea
from runner.lab.forge.github import GitHub
from runner.lab.forge.pages import pull_page, pulls_page
from runner.lab.forge.pulls import Flavor, WebhookTarget
from runner.lab.forge.routes import add_forge_routes
from runner.lab.forge.state import ForgeState


class Seed(BaseModel):
    repo: str
    pulls: list[int] = []
    tokens: dict[str, str] = {}
    roles: dict[str, str] = {}  # login -> "write" | "read" (default write)
    commits: list[str] = []  # commits the repository holds (statuses are refused for any other)


class Limits(BaseModel):
    limit: int | None = None
    window: float | None = None
    secondary: float = 0.0


class Outage(BaseModel):
    seconds: float


class Pushed(BaseModel):
    """What the lab's git server reports after a push (its post-receive hook), one ref at a time."""

    repo: str
    ref: str
    before: str
    after: str
    base: str = "main"
    clone_url: str = ""


class Webhook(BaseModel):
    url: str
    secret: str
    flavor: Flavor = "gitea"


def create_forge_app(state: ForgeState | None = None) -> FastAPI:
    state = state or ForgeState()
    app = FastAPI(title="forge twin", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.forge = state
    add_forge_routes(app, GitHub(state), Gitea(state))

    @app.middleware("http")
    async def outage(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if state.limits.down() and not request.url.path.startswith("/_lab/"):
            return JSONResponse({"message": "Service Unavailable"}, status_code=503)
        response = await call_next(request)
        # GitHub names a classic token's scopes on every reply to it (docs: scopes for OAuth apps)
        _, _, token = request.headers.get("authorization", "").partition(" ")
        if token.strip() in state.oauth_scopes and not request.url.path.startswith(("/_lab/", "/api/v1/")):
            response.headers["X-OAuth-Scopes"] = state.oauth_scopes[token.strip()]
        return response

    @app.post("/_lab/seed")
    def seed(body: Seed) -> dict[str, str]:
        state.add_repo(body.repo)
        for number in body.pulls:
            state.add_pull(body.repo, number)
        for sha in body.commits:
            state.add_commit(body.repo, sha)
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

    @app.post("/_lab/webhook")
    def webhook(body: Webhook) -> dict[str, str]:
        state.pulls.webhook = WebhookTarget(body.url, body.secret, body.flavor)
        return {"status": "ok"}

    @app.post("/_lab/git/pushed")
    def pushed(body: Pushed) -> dict[str, Any]:
        """A branch other than the base opens or updates its pull request, and the forge sends pull_request."""
        changed = state.pulls.pushed(body.repo, body.ref, body.after, body.base)
        if changed is None:
            return {"status": "no pull request"}
        pull, action = changed
        return {"number": pull.number, "action": action, "webhook": state.pulls.send(pull, action, body.clone_url)}

    @app.get("/_lab/pulls")
    def pulls() -> list[dict[str, Any]]:
        return [asdict(p) for p in sorted(state.pulls.by_number.values(), key=lambda p: p.number)]

    @app.post("/_lab/pulls/{owner}/{name}/{number}/merge")
    def merge(owner: str, name: str, number: int) -> JSONResponse:
        """Merge (fast-forward, else a merge commit) into the base branch; its push webhook applies it."""
        try:
            pull = state.pulls.merged(f"{owner}/{name}", number)
        except LookupError as exc:
            return JSONResponse({"message": str(exc)}, status_code=404)
        except ValueError as exc:  # the git server could not merge (a conflict)
            return JSONResponse({"message": str(exc)}, status_code=409)
        webhook = state.pulls.send(pull, "closed", "")
        return JSONResponse({"number": pull.number, "merged": True, "sha": pull.merge_sha, "webhook": webhook})

    @app.get("/{owner}/{name}/pulls", response_class=HTMLResponse)
    def pulls_html(owner: str, name: str) -> str:
        return pulls_page(state, f"{owner}/{name}")

    @app.get("/{owner}/{name}/pulls/{number}", response_class=HTMLResponse)
    def pull_html(owner: str, name: str, number: int) -> HTMLResponse:
        pull = state.pulls.by_number.get((f"{owner}/{name}".lower(), number))
        if pull is None:
            return HTMLResponse("<h1>Not Found</h1>", status_code=404)
        return HTMLResponse(pull_page(state, pull))

    @app.get("/_lab/statuses")
    def statuses() -> list[dict[str, Any]]:
        return [asdict(s) for s in state.statuses]

    @app.get("/_lab/comments")
    def comments() -> list[dict[str, Any]]:
        return [asdict(c) for c in state.comments.values()]

    return app
