"""GitHub's dialect of the forge twin (routes at the root, like api.github.com): its replies and rules.

Replies follow docs.github.com/rest (commits/statuses, issues/comments): 201 on create, 422
`Validation Failed` with an `errors` list on a bad state or body, 422 `Invalid request.` when a body field has
the wrong JSON type, 401 `Requires authentication` / `Bad credentials`, 404 `Not Found`, 400 for an API version
GitHub does not serve, 415 for an `Accept` it cannot answer, `x-ratelimit-*` headers on every reply, and
Link-header pagination in GitHub's `/repositories/{id}/` form (per_page default 30, max 100).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from runner.lab.forge.routes import Caller, Dialect, Refused, lab_id, site
from runner.lab.forge.state import Comment, Repo, Status
from runner.lab.forge.tokens import Need

STATES = ("error", "failure", "pending", "success")
# docs.github.com/rest/about-the-rest-api/api-versions; 2026-03-10 from the GitHub changelog of 2026-03-12.
API_VERSIONS = ("2026-03-10", "2022-11-28")  # most recent first
STATUS_DOCS = "https://docs.github.com/rest/commits/statuses#create-a-commit-status"
COMMENT_DOCS = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
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
    code: int, message: str, headers: dict[str, str] | None = None, docs: str = DOCS, **extra: Any
) -> JSONResponse:
    body = {"message": message, **extra, "documentation_url": docs, "status": str(code)}
    return JSONResponse(body, status_code=code, headers=headers)


def _invalid(resource: str, field: str, message: str) -> Refused:
    errors = [{"resource": resource, "code": "custom", "field": field, "message": message}]
    return Refused(_error(422, "Validation Failed", errors=errors))


def _invalid_request(detail: str, docs: str) -> Refused:
    """GitHub's schema check of a request body: 422 `Invalid request.` naming the property."""
    return Refused(_error(422, f"Invalid request.\n\n{detail}", docs=docs))


def _ruby(value: Any) -> str:
    """How GitHub's validator prints a JSON value in its message (Ruby's inspect)."""
    if value is None:
        return "nil"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}=>{_ruby(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_ruby(v) for v in value) + "]"
    return json.dumps(value)


def _check_types(body: dict[str, Any], fields: dict[str, bool], required: tuple[str, ...], docs: str) -> None:
    """`fields`: name -> whether null is allowed; each must be a string (or null) when present."""
    for name in required:
        if name not in body:
            raise _invalid_request(f'"{name}" wasn\'t supplied.', docs)
    for name, nullable in fields.items():
        value = body.get(name, "")
        if not (isinstance(value, str) or (nullable and value is None)):
            kind = "a string or null" if nullable else "a string"
            raise _invalid_request(f"For 'properties/{name}', {_ruby(value)} is not {kind}.", docs)


def _query_int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


class GitHub(Dialect):
    by_id = True
    default_context = "default"
    no_token = "Requires authentication"
    bad_token = "Bad credentials"
    not_found = "Not Found"
    bad_json = (400, "Problems parsing JSON")

    def error(self, request: Request, code: int, message: str) -> Response:
        return _error(code, message)

    def admit(self, request: Request, login: str) -> None:
        version = request.headers.get("x-github-api-version")
        if version is not None and version not in API_VERSIONS:
            supported = ", ".join(f'"{v}"' + (" (most recent)" if i == 0 else "") for i, v in enumerate(API_VERSIONS))
            raise Refused(
                _error(
                    400,
                    f'The version you specified in the "X-GitHub-API-Version" request header, "{version}", is not'
                    f" a supported version. The following versions are currently supported: {supported}.",
                )
            )
        accept = request.headers.get("accept")
        if accept and not any(_acceptable(part) for part in accept.split(",")):
            media = "https://docs.github.com/rest/using-the-rest-api/media-types"
            refused = f"Unsupported 'Accept' header: {json.dumps([accept])}. Must accept 'application/json'."
            raise Refused(_error(415, refused, docs=media))
        limited, headers = self.state.limits.github(login, lab_id(login))
        request.state.forge_headers = headers  # every reply carries the caller's rate-limit state
        if limited is not None:
            raise Refused(_error(limited.code, limited.message, {**headers, **limited.headers}))

    def authorize(self, request: Request, token: str, need: Need, repo: Repo | None) -> None:
        app = self.state.installations.get(token)
        if app is None:
            if need.category == "installation":  # the runner only asks with an installation token
                raise Refused(_error(403, "Resource not accessible by personal access token"))
            return
        if need.category == "user":  # `GET /user`: enabledForGitHubApps false
            raise Refused(_error(403, INTEGRATION, docs=ENDPOINT_DOCS["user"]))
        if repo is not None and not app.covers(repo.full_name):
            raise Refused(_error(404, self.not_found))
        if not app.grants(need):
            raise Refused(_error(403, INTEGRATION, docs=ENDPOINT_DOCS.get(need.category, DOCS)))

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
        """A `simple-user` with the fields GitHub's description requires."""
        uid, api = lab_id(login), f"https://api.github.com/users/{login}"
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_lab{uid}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"https://github.com/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": "Bot" if login.endswith(("bot", "[bot]")) else "User",
            "user_view_type": "public",
            "site_admin": False,
        }

    def permissions(self, write: bool) -> dict[str, bool]:
        # docs.github.com/rest/repos/repos#get-a-repository: `permissions` for the authenticated caller
        return {"admin": False, "maintain": False, "push": write, "triage": write, "pull": True}

    def check_status(self, request: Request, body: dict[str, Any]) -> None:
        nullable = {"state": False, "target_url": True, "description": True, "context": False}
        _check_types(body, nullable, ("state",), STATUS_DOCS)
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
            "avatar_url": self.user(status.creator)["avatar_url"],
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
        _check_types(body, {"body": False}, ("body",), COMMENT_DOCS)
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
        # GitHub names the repository by id in its links (docs.github.com/rest/using-the-rest-api/using-pagination-...)
        url = f"{site(request)}/repositories/{lab_id(repo.full_name)}/issues/{number}/comments?per_page={per_page}"
        rels = [(page - 1, "prev"), (1, "first")] if page > 1 else []
        rels = ([(page + 1, "next"), (last, "last")] if page < last else []) + rels
        if rels:
            response.headers["link"] = ", ".join(f'<{url}&page={n}>; rel="{rel}"' for n, rel in rels)
        return response


def _acceptable(media_range: str) -> bool:
    media = media_range.split(";")[0].strip().lower()
    return media in ("*/*", "application/*", "application/json") or media.startswith("application/vnd.github")
