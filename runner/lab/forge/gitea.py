"""Gitea/Forgejo's dialect of the forge twin (routes under /api/v1): its replies and rules.

Replies follow Gitea's API: `{"message": ..., "url": ...}` errors, 401 when no/invalid token,
404 for unknown repos/issues/commits, 422 on a failed binding (bad state, empty body), 201 on
create, 200 on edit; issue comment lists are not paginated (only `since`/`before` filters).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from runner.lab.forge.routes import Caller, Dialect, lab_id, site
from runner.lab.forge.state import Comment, Repo, Status
from runner.lab.forge.tokens import Need, gitea_missing

STATES = ("pending", "success", "error", "failure", "warning")
PREFIX = "/api/v1"


class Gitea(Dialect):
    prefix = PREFIX
    no_token = "token is required"
    bad_token = "invalid username, password or token"
    not_found = "The target couldn't be found."
    bad_json = (422, "invalid JSON body")

    def token(self, request: Request) -> str | None:
        # Gitea also reads a token from the query (`token` or `access_token`).
        return super().token(request) or request.query_params.get("token") or request.query_params.get("access_token")

    def error(self, request: Request, code: int, message: str) -> Response:
        return JSONResponse({"message": message, "url": f"{site(request)}/api/swagger"}, code)

    def authorize(self, request: Request, token: str, need: Need, repo: Repo | None) -> None:
        missing = gitea_missing(self.state.gitea_scopes.get(token), need)
        if missing is not None:
            raise self.refuse(request, 403, f"token does not have at least one of required scope(s): [{missing}]")

    def extra_routes(self, api: APIRouter, caller: Caller) -> None:
        @api.post("/repos/{owner}/{name}/markup")
        def markup(owner: str, name: str, request: Request) -> HTMLResponse:
            # renders markup; it writes nothing, but as a POST in /repos it needs write:repository
            caller(request, Need("markup", write=True), owner, name)
            return HTMLResponse("")

    def user(self, login: str) -> dict[str, Any]:
        return {"id": lab_id(login), "login": login, "username": login, "full_name": "", "email": ""}

    def permissions(self, write: bool) -> dict[str, bool]:
        # Gitea API GET /repos/{owner}/{repo}: a Repository with `permissions` {admin, push, pull}
        return {"admin": False, "push": write, "pull": True}

    def check_status(self, request: Request, body: dict[str, Any]) -> None:
        if body.get("state") not in STATES:
            raise self.refuse(request, 422, f"State: invalid commit status state {body.get('state')!r}")

    def no_commit(self, request: Request, sha: str) -> Response:
        return self.error(request, 404, self.not_found)

    def status_json(self, request: Request, status: Status) -> dict[str, Any]:
        return {
            "id": status.id,
            "status": status.state,
            "target_url": status.target_url,
            "description": status.description,
            "url": f"{site(request)}{PREFIX}/repos/{status.repo}/statuses/{status.sha}",
            "context": status.context,
            "creator": self.user(status.creator),
            "created_at": status.created_at,
            "updated_at": status.created_at,
        }

    def check_comment(self, request: Request, body: dict[str, Any]) -> str:
        text = body.get("body")
        if not isinstance(text, str) or not text:
            raise self.refuse(request, 422, "Body: Required")
        return text

    def may_not_edit(self, request: Request) -> Response:
        return Response(status_code=403)  # ctx.Status(http.StatusForbidden): no body

    def comment_json(self, request: Request, c: Comment) -> dict[str, Any]:
        return {
            "id": c.id,
            "html_url": f"{site(request)}/{c.repo}/pulls/{c.issue}#issuecomment-{c.id}",
            "pull_request_url": f"{site(request)}/{c.repo}/pulls/{c.issue}",
            "issue_url": "",
            "user": self.user(c.user),
            "original_author": "",
            "original_author_id": 0,
            "body": c.body,
            "assets": [],
            "created_at": c.created_at,
            "updated_at": c.updated_at,
        }

    def comment_list(self, request: Request, repo: Repo, number: int, comments: list[Comment]) -> Response:
        return JSONResponse([self.comment_json(request, c) for c in comments])
