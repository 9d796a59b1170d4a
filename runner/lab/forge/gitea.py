"""Gitea/Forgejo API routes (/api/v1) of the forge twin: commit statuses and issue comments.

Replies follow Gitea's API: `{"message": ..., "url": ...}` errors, 401 when no/invalid token,
404 for unknown repos/issues/commits, 422 on a failed binding (bad state, empty body), 201 on
create, 200 on edit; issue comment lists are not paginated (only `since`/`before` filters).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from runner.lab.forge.state import Comment, ForgeState

STATES = ("pending", "success", "error", "failure", "warning")
PREFIX = "/api/v1"


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return request.query_params.get("token") or request.query_params.get("access_token")


def router(state: ForgeState) -> APIRouter:
    api = APIRouter(prefix=PREFIX)

    def error(request: Request, code: int, message: str) -> JSONResponse:
        return JSONResponse({"message": message, "url": f"{str(request.base_url).rstrip('/')}/api/swagger"}, code)

    def auth(request: Request) -> str | JSONResponse:
        token = _token(request)
        if token is None:
            return error(request, 401, "token is required")
        login = state.user_for(token)
        return login if login is not None else error(request, 401, "invalid username, password or token")

    def user(login: str) -> dict[str, Any]:
        return {"id": abs(hash(login)) % 10**7, "login": login, "username": login, "full_name": "", "email": ""}

    def comment_json(request: Request, c: Comment) -> dict[str, Any]:
        site = str(request.base_url).rstrip("/")
        return {
            "id": c.id,
            "html_url": f"{site}/{c.repo}/pulls/{c.issue}#issuecomment-{c.id}",
            "pull_request_url": f"{site}/{c.repo}/pulls/{c.issue}",
            "issue_url": "",
            "user": user(c.user),
            "original_author": "",
            "original_author_id": 0,
            "body": c.body,
            "assets": [],
            "created_at": c.created_at,
            "updated_at": c.updated_at,
        }

    async def body_of(request: Request) -> dict[str, Any] | JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return error(request, 422, "invalid JSON body")
        return body if isinstance(body, dict) else error(request, 422, "invalid JSON body")

    @api.get("/repos/{owner}/{name}")
    async def get_repo(owner: str, name: str, request: Request) -> JSONResponse:
        # Gitea API GET /repos/{owner}/{repo}: a Repository with `permissions` {admin, push, pull}
        login = auth(request)
        if isinstance(login, JSONResponse):
            return login
        repo = state.repo(owner, name)
        if repo is None:
            return error(request, 404, "The target couldn't be found.")
        permissions = {"admin": False, "push": state.may_write(_token(request)), "pull": True}
        return JSONResponse(
            {
                "id": abs(hash(repo.full_name)) % 10**7,
                "full_name": repo.full_name,
                "private": True,
                "permissions": permissions,
            }
        )
    @api.get("/user")
    def me(request: Request) -> JSONResponse:
        login = auth(request)
        return login if isinstance(login, JSONResponse) else JSONResponse(user(login))

    @api.post("/repos/{owner}/{name}/statuses/{sha}")
    async def create_status(owner: str, name: str, sha: str, request: Request) -> JSONResponse:
        login = auth(request)
        if isinstance(login, JSONResponse):
            return login
        repo = state.repo(owner, name)
        if repo is None:
            return error(request, 404, "The target couldn't be found.")
        body = await body_of(request)
        if isinstance(body, JSONResponse):
            return body
        if body.get("state") not in STATES:
            return error(request, 422, f"State: invalid commit status state {body.get('state')!r}")
        if not state.commit_exists(repo.full_name, sha):
            return error(request, 404, "The target couldn't be found.")
        status = state.add_status(repo, sha, body, login, default_context="")
        site = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "id": status.id,
                "status": status.state,
                "target_url": status.target_url,
                "description": status.description,
                "url": f"{site}{PREFIX}/repos/{repo.full_name}/statuses/{sha}",
                "context": status.context,
                "creator": user(login),
                "created_at": status.created_at,
                "updated_at": status.created_at,
            },
            status_code=201,
        )

    @api.get("/repos/{owner}/{name}/issues/{number}/comments")
    def list_comments(owner: str, name: str, number: int, request: Request):  # type: ignore[no-untyped-def]
        login = auth(request)
        if isinstance(login, JSONResponse):
            return login
        repo = state.repo(owner, name)
        if repo is None or number not in repo.issues:
            return error(request, 404, "The target couldn't be found.")
        return JSONResponse([comment_json(request, c) for c in state.comments_on(repo.full_name, number)])

    @api.post("/repos/{owner}/{name}/issues/{number}/comments")
    async def create_comment(owner: str, name: str, number: int, request: Request) -> JSONResponse:
        login = auth(request)
        if isinstance(login, JSONResponse):
            return login
        repo = state.repo(owner, name)
        if repo is None or number not in repo.issues:
            return error(request, 404, "The target couldn't be found.")
        body = await body_of(request)
        if isinstance(body, JSONResponse):
            return body
        if not isinstance(body.get("body"), str) or not body["body"]:
            return error(request, 422, "Body: Required")
        comment = state.add_comment(repo, number, body["body"], login)
        return JSONResponse(comment_json(request, comment), status_code=201)

    @api.patch("/repos/{owner}/{name}/issues/comments/{comment_id}")
    async def edit_comment(owner: str, name: str, comment_id: int, request: Request) -> Response:
        login = auth(request)
        if isinstance(login, JSONResponse):
            return login
        repo = state.repo(owner, name)
        comment = state.comments.get(comment_id)
        if repo is None or comment is None or comment.repo != repo.full_name:
            return error(request, 404, "The target couldn't be found.")
        body = await body_of(request)
        if isinstance(body, JSONResponse):
            return body
        if not isinstance(body.get("body"), str) or not body["body"]:
            return error(request, 422, "Body: Required")
        if not state.may_edit(login, comment):
            return Response(status_code=403)  # ctx.Status(http.StatusForbidden): no body
        state.edit_comment(comment, body["body"])
        return JSONResponse(comment_json(request, comment))

    return api
