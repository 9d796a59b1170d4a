"""GitHub REST routes of the forge twin: commit statuses and issue comments, with GitHub's replies.

Replies follow docs.github.com/rest (commits/statuses, issues/comments): 201 on create, 422
`Validation Failed` with an `errors` list on a bad state or body, 401 `Requires authentication` /
`Bad credentials`, 404 `Not Found`, Link-header pagination (per_page default 30, max 100).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from runner.lab.forge.state import Comment, ForgeState

STATES = ("error", "failure", "pending", "success")
DOCS = "https://docs.github.com/rest"
DESCRIPTION_MAX = 140  # "description is too long (maximum is 140 characters)"
COMMENT_MAX = 65536  # "Body is too long (maximum is 65536 characters)"


def _error(code: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"message": message, **extra, "documentation_url": DOCS, "status": str(code)}
    return JSONResponse(body, status_code=code, headers=headers)


def _invalid(resource: str, field: str, message: str) -> JSONResponse:
    errors = [{"resource": resource, "code": "custom", "field": field, "message": message}]
    return _error(422, "Validation Failed", errors=errors)


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() in ("bearer", "token") and value.strip() else None


def router(state: ForgeState) -> APIRouter:
    api = APIRouter()

    def user(login: str) -> dict[str, Any]:
        return {"login": login, "id": abs(hash(login)) % 10**7, "type": "Bot" if login.endswith("bot") else "User"}

    def auth(request: Request) -> str | JSONResponse:
        token = _token(request)
        if token is None:
            return _error(401, "Requires authentication")
        login = state.user_for(token)
        if login is None:
            return _error(401, "Bad credentials")
        refused = state.limits.github(login, user(login)["id"])
        return login if refused is None else _error(refused.code, refused.message, refused.headers)

    @api.get("/user")
    def me(request: Request) -> JSONResponse:
        login = auth(request)
        return login if isinstance(login, JSONResponse) else JSONResponse(user(login))

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def comment_json(request: Request, c: Comment) -> dict[str, Any]:
        return {
            "id": c.id,
            "node_id": f"IC_{c.id}",
            "url": f"{base(request)}/repos/{c.repo}/issues/comments/{c.id}",
            "html_url": f"https://github.com/{c.repo}/pull/{c.issue}#issuecomment-{c.id}",
            "issue_url": f"{base(request)}/repos/{c.repo}/issues/{c.issue}",
            "body": c.body,
            "user": user(c.user),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "author_association": "NONE",
        }

    async def body_of(request: Request) -> dict[str, Any] | JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "Problems parsing JSON")
        return body if isinstance(body, dict) else _error(400, "Problems parsing JSON")

    @api.get("/repos/{owner}/{name}")
    async def get_repo(owner: str, name: str, request: Request) -> JSONResponse:
        # docs.github.com/rest/repos/repos#get-a-repository: `permissions` for the authenticated caller
        login = auth(request)
        if isinstance(login, JSONResponse):
            return login
        repo = state.repo(owner, name)
        if repo is None:
            return _error(404, "Not Found")
        write = state.may_write(_token(request))
        permissions = {"admin": False, "maintain": False, "push": write, "triage": write, "pull": True}
        return JSONResponse(
            {
                "id": abs(hash(repo.full_name)) % 10**7,
                "full_name": repo.full_name,
                "private": True,
                "permissions": permissions,
            }
        )

    @api.post("/repos/{owner}/{name}/statuses/{sha}")
    async def create_status(owner: str, name: str, sha: str, request: Request) -> JSONResponse:
        login = auth(request)
        if isinstance(login, JSONResponse):
            return login
        repo = state.repo(owner, name)
        if repo is None:
            return _error(404, "Not Found")
        body = await body_of(request)
        if isinstance(body, JSONResponse):
            return body
        if body.get("state") not in STATES:
            return _invalid("Status", "state", "state is not included in the list")
        if len(str(body.get("description") or "")) > DESCRIPTION_MAX:
            too_long = f"description is too long (maximum is {DESCRIPTION_MAX} characters)"
            return _invalid("Status", "description", too_long)
        if not state.commit_exists(repo.full_name, sha):
            return _error(422, f"No commit found for SHA: {sha}")
        status = state.add_status(repo, sha, body, login, default_context="default")
        return JSONResponse(
            {
                "url": f"{base(request)}/repos/{repo.full_name}/statuses/{sha}",
                "id": status.id,
                "node_id": f"SC_{status.id}",
                "state": status.state,
                "description": status.description or None,
                "target_url": status.target_url or None,
                "context": status.context,
                "created_at": status.created_at,
                "updated_at": status.created_at,
                "creator": user(login),
            },
            status_code=201,
        )

    @api.get("/repos/{owner}/{name}/issues/{number}/comments")
    def list_comments(owner: str, name: str, number: int, request: Request, page: int = 1, per_page: int = 30):  # type: ignore[no-untyped-def]
        login = auth(request)
        if isinstance(login, JSONResponse):
            return login
        repo = state.repo(owner, name)
        if repo is None or number not in repo.issues:
            return _error(404, "Not Found")
        per_page = max(1, min(per_page, 100))
        comments = state.comments_on(repo.full_name, number)
        chunk = comments[(page - 1) * per_page : page * per_page]
        response = JSONResponse([comment_json(request, c) for c in chunk])
        last = max(1, -(-len(comments) // per_page))
        if page < last:
            url = f"{base(request)}/repos/{repo.full_name}/issues/{number}/comments?per_page={per_page}"
            response.headers["link"] = f'<{url}&page={page + 1}>; rel="next", <{url}&page={last}>; rel="last"'
        return response

    @api.post("/repos/{owner}/{name}/issues/{number}/comments")
    async def create_comment(owner: str, name: str, number: int, request: Request) -> JSONResponse:
        login = auth(request)
        if isinstance(login, JSONResponse):
            return login
        repo = state.repo(owner, name)
        if repo is None or number not in repo.issues:
            return _error(404, "Not Found")
        body = await body_of(request)
        if isinstance(body, JSONResponse):
            return body
        if not isinstance(body.get("body"), str) or not body["body"]:
            return _invalid("IssueComment", "body", "body is missing")
        if len(body["body"]) > COMMENT_MAX:
            return _invalid("IssueComment", "body", f"body is too long (maximum is {COMMENT_MAX} characters)")
        comment = state.add_comment(repo, number, body["body"], login)
        return JSONResponse(comment_json(request, comment), status_code=201)

    @api.patch("/repos/{owner}/{name}/issues/comments/{comment_id}")
    async def edit_comment(owner: str, name: str, comment_id: int, request: Request) -> JSONResponse:
        login = auth(request)
        if isinstance(login, JSONResponse):
            return login
        repo = state.repo(owner, name)
        comment = state.comments.get(comment_id)
        if repo is None or comment is None or comment.repo != repo.full_name:
            return _error(404, "Not Found")
        body = await body_of(request)
        if isinstance(body, JSONResponse):
            return body
        if not isinstance(body.get("body"), str) or not body["body"]:
            return _invalid("IssueComment", "body", "body is missing")
        if len(body["body"]) > COMMENT_MAX:
            return _invalid("IssueComment", "body", f"body is too long (maximum is {COMMENT_MAX} characters)")
        if not state.may_edit(login, comment):
            return _error(403, "Resource not accessible by personal access token")
        state.edit_comment(comment, body["body"])
        return JSONResponse(comment_json(request, comment))

    return api
