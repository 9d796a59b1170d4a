"""GitHub's dialect of the forge twin (routes at the root, like api.github.com): its replies and rules.

Replies follow docs.github.com/rest (commits/statuses, issues/comments): 201 on create, 422
`Validation Failed` with an `errors` list on a bad state or body, 401 `Requires authentication` /
`Bad credentials`, 404 `Not Found`, Link-header pagination (per_page default 30, max 100).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from runner.lab.forge.routes import Caller, Dialect, Refused, lab_id, site
from runner.lab.forge.state import Comment, Repo, Status
from runner.lab.forge.tokens import Need

STATES = ("error", "failure", "pending", "success")
DOCS = "https://docs.github.com/rest"
INTEGRATION = "Resource not accessible by integration"  # what an App's token is told (tokens.py)
ENDPOINT_DOCS = {
    "user": f"{DOCS}/users/users#get-the-authenticated-user",
    "statuses": f"{DOCS}/commits/statuses#create-a-commit-status",
    "issues": f"{DOCS}/issues/comments#create-an-issue-comment",
    "repo": f"{DOCS}/repos/repos#get-a-repository",
}
DESCRIPTION_MAX = 140  # "description is too long (maximum is 140 characters)"
COMMENT_MAX = 65536  # "Body is too long (maximum is 65536 characters)"


def _error(
    code: int, message: str, headers: dict[str, str] | None = None, doc: str = DOCS, **extra: Any
) -> JSONResponse:
    body = {"message": message, **extra, "documentation_url": doc, "status": str(code)}
    return JSONResponse(body, status_code=code, headers=headers)


def _invalid(resource: str, field: str, message: str) -> Refused:
    errors = [{"resource": resource, "code": "custom", "field": field, "message": message}]
    return Refused(_error(422, "Validation Failed", errors=errors))


def _query_int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


class GitHub(Dialect):
    default_context = "default"
    no_token = "Requires authentication"
    bad_token = "Bad credentials"
    not_found = "Not Found"
    bad_json = (400, "Problems parsing JSON")

    def error(self, request: Request, code: int, message: str) -> Response:
        return _error(code, message)

    def admit(self, request: Request, login: str) -> None:
        refused = self.state.limits.github(login, lab_id(login))
        if refused is not None:
            raise Refused(_error(refused.code, refused.message, refused.headers))

    def authorize(self, request: Request, token: str, need: Need, repo: Repo | None) -> None:
        app = self.state.installations.get(token)
        if app is None:
            if need.category == "installation":  # the runner only asks with an installation token
                raise Refused(_error(403, "Resource not accessible by personal access token"))
            return
        if need.category == "user":  # `GET /user`: enabledForGitHubApps false
            raise Refused(_error(403, INTEGRATION, doc=ENDPOINT_DOCS["user"]))
        if repo is not None and not app.covers(repo.full_name):
            raise Refused(_error(404, self.not_found))
        if not app.grants(need):
            raise Refused(_error(403, INTEGRATION, doc=ENDPOINT_DOCS.get(need.category, DOCS)))

    def extra_routes(self, api: APIRouter, caller: Caller) -> None:
        @api.get("/installation/repositories")
        def installation_repositories(request: Request) -> JSONResponse:
            caller(request, Need("installation"), None, None)
            app = self.state.installations[self.token(request) or ""]
            repos = [r for r in self.state.repos.values() if app.covers(r.full_name)]
            listed = [{"id": lab_id(r.full_name), "full_name": r.full_name, "private": True} for r in repos]
            return JSONResponse(
                {"total_count": len(listed), "repository_selection": "selected", "repositories": listed}
            )

    def user(self, login: str) -> dict[str, Any]:
        return {"login": login, "id": lab_id(login), "type": "Bot" if login.endswith(("bot", "[bot]")) else "User"}

    def permissions(self, write: bool) -> dict[str, bool]:
        # docs.github.com/rest/repos/repos#get-a-repository: `permissions` for the authenticated caller
        return {"admin": False, "maintain": False, "push": write, "triage": write, "pull": True}

    def check_status(self, request: Request, body: dict[str, Any]) -> None:
        if body.get("state") not in STATES:
            raise _invalid("Status", "state", "state is not included in the list")
        if len(str(body.get("description") or "")) > DESCRIPTION_MAX:
            too_long = f"description is too long (maximum is {DESCRIPTION_MAX} characters)"
            raise _invalid("Status", "description", too_long)

    def no_commit(self, request: Request, sha: str) -> Response:
        return _error(422, f"No commit found for SHA: {sha}")

    def status_json(self, request: Request, status: Status) -> dict[str, Any]:
        return {
            "url": f"{site(request)}/repos/{status.repo}/statuses/{status.sha}",
            "id": status.id,
            "node_id": f"SC_{status.id}",
            "state": status.state,
            "description": status.description or None,
            "target_url": status.target_url or None,
            "context": status.context,
            "created_at": status.created_at,
            "updated_at": status.created_at,
            "creator": self.user(status.creator),
        }

    def check_comment(self, request: Request, body: dict[str, Any]) -> str:
        text = body.get("body")
        if not isinstance(text, str) or not text:
            raise _invalid("IssueComment", "body", "body is missing")
        if len(text) > COMMENT_MAX:
            raise _invalid("IssueComment", "body", f"body is too long (maximum is {COMMENT_MAX} characters)")
        return text

    def may_not_edit(self, request: Request) -> Response:
        return _error(403, "Resource not accessible by personal access token")

    def comment_json(self, request: Request, c: Comment) -> dict[str, Any]:
        return {
            "id": c.id,
            "node_id": f"IC_{c.id}",
            "url": f"{site(request)}/repos/{c.repo}/issues/comments/{c.id}",
            "html_url": f"https://github.com/{c.repo}/pull/{c.issue}#issuecomment-{c.id}",
            "issue_url": f"{site(request)}/repos/{c.repo}/issues/{c.issue}",
            "body": c.body,
            "user": self.user(c.user),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "author_association": "NONE",
        }

    def comment_list(self, request: Request, repo: Repo, number: int, comments: list[Comment]) -> Response:
        page = _query_int(request, "page", 1)
        per_page = max(1, min(_query_int(request, "per_page", 30), 100))
        chunk = comments[(page - 1) * per_page : page * per_page]
        response = JSONResponse([self.comment_json(request, c) for c in chunk])
        last = max(1, -(-len(comments) // per_page))
        if page < last:
            url = f"{site(request)}/repos/{repo.full_name}/issues/{number}/comments?per_page={per_page}"
            response.headers["link"] = f'<{url}&page={page + 1}>; rel="next", <{url}&page={last}>; rel="last"'
        return response
