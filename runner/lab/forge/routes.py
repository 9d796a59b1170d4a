"""The REST routes both forge twins serve, and what they share: reading the caller's token, finding the
repository (and issue or comment), parsing the JSON body, and recording statuses and comments.

What differs between GitHub and Gitea/Forgejo (URL prefix, where a token may be sent, error bodies and
messages, what a request is refused for, reply shapes, pagination) is each forge's `Dialect` (github.py,
gitea.py), so that every reply stays the one that forge gives.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from runner.lab.forge.state import Comment, ForgeState, Repo, Status
from runner.lab.forge.tokens import Need


class Refused(Exception):
    """A forge's reply that ends the request: raised, so that each check in a route stays one line."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def lab_id(name: str) -> int:
    """A numeric id for a user or repository, the same for as long as the twin runs."""
    return abs(hash(name)) % 10**7


def site(request: Request) -> str:
    return str(request.base_url).rstrip("/")


class Dialect(ABC):
    """How one forge reads a request and what it answers; the routes below do the rest."""

    prefix = ""
    by_id = False  # GitHub also serves a repository's routes under /repositories/{id}/ (its Link headers use them)
    default_context = ""  # the context of a status posted without one
    no_token = ""  # 401 messages: no token at all, a token it does not know
    bad_token = ""
    not_found = ""  # 404 message: no such repository, issue or comment
    bad_json = (400, "")  # the body is not a JSON object

    def __init__(self, state: ForgeState) -> None:
        self.state = state

    def refuse(self, request: Request, code: int, message: str) -> Refused:
        return Refused(self.error(request, code, message))

    def admit(self, request: Request, login: str) -> None:
        """Raise `Refused` for a known caller it will not serve now (GitHub's rate limits; Gitea has none)."""
        return None

    def authorize(self, request: Request, token: str, need: Need, repo: Repo | None) -> None:
        """Raise `Refused` when this kind of token may not do what the route needs (tokens.py)."""
        return None

    def extra_routes(self, api: APIRouter, caller: Caller) -> None:
        """Routes only this forge serves."""
        return None

    def token(self, request: Request) -> str | None:
        """Both forges take `Authorization: token <t>` or `Bearer <t>`."""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return value.strip() if scheme.lower() in ("token", "bearer") and value.strip() else None

    @abstractmethod
    def error(self, request: Request, code: int, message: str) -> Response: ...

    @abstractmethod
    def user(self, login: str) -> dict[str, Any]: ...

    @abstractmethod
    def permissions(self, write: bool) -> dict[str, bool]: ...

    @abstractmethod
    def check_status(self, request: Request, body: dict[str, Any]) -> None:
        """Raise `Refused` for a status body this forge would not record (checked before the commit is)."""

    @abstractmethod
    def no_commit(self, request: Request, sha: str) -> Response: ...

    @abstractmethod
    def status_json(self, request: Request, status: Status) -> dict[str, Any]: ...

    @abstractmethod
    def check_comment(self, request: Request, body: dict[str, Any]) -> str:
        """The comment text of a create or edit request, or raise `Refused`."""

    @abstractmethod
    def may_not_edit(self, request: Request) -> Response: ...

    @abstractmethod
    def comment_json(self, request: Request, c: Comment) -> dict[str, Any]: ...

    @abstractmethod
    def comment_list(self, request: Request, repo: Repo, number: int, comments: list[Comment]) -> Response: ...


# (request, what the route needs, owner, repo name) -> (login, the repository when owner/name were given)
Caller = Callable[[Request, Need, str | None, str | None], tuple[str, Repo | None]]


def add_forge_routes(app: FastAPI, *forges: Dialect) -> None:
    for forge in forges:
        app.include_router(router(forge))

    async def refused(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return exc.response

    app.add_exception_handler(Refused, refused)

    @app.middleware("http")
    async def forge_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in getattr(request.state, "forge_headers", {}).items():
            response.headers.setdefault(name, value)  # e.g. GitHub's x-ratelimit-* on every reply
        return response


def router(forge: Dialect) -> APIRouter:
    api = APIRouter(prefix=forge.prefix)
    state = forge.state

    def caller(
        request: Request, need: Need, owner: str | None = None, name: str | None = None
    ) -> tuple[str, Repo | None]:
        token = forge.token(request)
        if token is None:
            raise forge.refuse(request, 401, forge.no_token)
        login = state.user_for(token)
        if login is None:
            raise forge.refuse(request, 401, forge.bad_token)
        forge.admit(request, login)
        repo = repo_of(request, owner, name) if owner is not None and name is not None else None
        forge.authorize(request, token, need, repo)
        return login, repo

    def repo_of(request: Request, owner: str, name: str, issue: int | None = None) -> Repo:
        repo = state.repo(owner, name)
        if repo is None or (issue is not None and issue not in repo.issues):
            raise forge.refuse(request, 404, forge.not_found)
        return repo

    def caller_on(request: Request, need: Need, owner: str, name: str) -> tuple[str, Repo]:
        login, repo = caller(request, need, owner, name)
        assert repo is not None
        return login, repo

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise forge.refuse(request, *forge.bad_json)
        return body

    @api.get("/user")
    def me(request: Request) -> JSONResponse:
        return JSONResponse(forge.user(caller(request, Need("user"))[0]))

    @api.get("/repos/{owner}/{name}")
    async def get_repo(owner: str, name: str, request: Request) -> JSONResponse:
        # Both forges answer the caller's own `permissions` on the repository.
        _, repo = caller_on(request, Need("repo"), owner, name)
        permissions = forge.permissions(state.may_write(forge.token(request)))
        body = {
            "id": lab_id(repo.full_name),
            "full_name": repo.full_name,
            "private": True,
            "default_branch": "main",
            "permissions": permissions,
        }
        return JSONResponse(body)

    @api.get("/repos/{owner}/{name}/commits/{ref}/statuses")
    def list_statuses(owner: str, name: str, ref: str, request: Request) -> JSONResponse:
        _, repo = caller_on(request, Need("statuses"), owner, name)
        found = [s for s in state.statuses if s.repo == repo.full_name and s.sha == ref]  # (no ref resolution)
        return JSONResponse([forge.status_json(request, s) for s in reversed(found)][:30])

    @api.get("/repos/{owner}/{name}/issues/comments")
    def list_repo_comments(owner: str, name: str, request: Request) -> JSONResponse:
        _, repo = caller_on(request, Need("issues"), owner, name)
        found = sorted((c for c in state.comments.values() if c.repo == repo.full_name), key=lambda c: c.id)
        return JSONResponse([forge.comment_json(request, c) for c in found][:30])

    @api.post("/repos/{owner}/{name}/statuses/{sha}")
    async def create_status(owner: str, name: str, sha: str, request: Request) -> Response:
        login, repo = caller_on(request, Need("statuses", write=True), owner, name)
        body = await body_of(request)
        forge.check_status(request, body)
        if not state.commit_exists(repo.full_name, sha):
            return forge.no_commit(request, sha)
        status = state.add_status(repo, sha, body, login, default_context=forge.default_context)
        return JSONResponse(forge.status_json(request, status), status_code=201)

    @api.get("/repos/{owner}/{name}/issues/{number}/comments")
    def list_comments(owner: str, name: str, number: int, request: Request) -> Response:
        caller_on(request, Need("issues"), owner, name)
        repo = repo_of(request, owner, name, number)
        return forge.comment_list(request, repo, number, state.comments_on(repo.full_name, number))

    if forge.by_id:

        @api.get("/repositories/{repo_id}/issues/{number}/comments")
        def list_comments_by_id(repo_id: int, number: int, request: Request) -> Response:
            found = state.repo_by_id(repo_id, lab_id)
            if found is None or number not in found.issues:
                caller(request, Need("issues"))
                raise forge.refuse(request, 404, forge.not_found)
            owner, name = found.full_name.split("/", 1)
            _, repo = caller_on(request, Need("issues"), owner, name)
            return forge.comment_list(request, repo, number, state.comments_on(repo.full_name, number))

    @api.post("/repos/{owner}/{name}/issues/{number}/comments")
    async def create_comment(owner: str, name: str, number: int, request: Request) -> JSONResponse:
        login, _ = caller_on(request, Need("issues", write=True), owner, name)
        repo = repo_of(request, owner, name, number)
        text = forge.check_comment(request, await body_of(request))
        comment = state.add_comment(repo, number, text, login)
        return JSONResponse(forge.comment_json(request, comment), status_code=201)

    @api.patch("/repos/{owner}/{name}/issues/comments/{comment_id}")
    async def edit_comment(owner: str, name: str, comment_id: int, request: Request) -> Response:
        login, repo = caller_on(request, Need("issues", write=True), owner, name)
        comment = state.comments.get(comment_id)
        if comment is None or comment.repo != repo.full_name:
            raise forge.refuse(request, 404, forge.not_found)
        text = forge.check_comment(request, await body_of(request))
        if not state.may_edit(login, comment):
            return forge.may_not_edit(request)
        state.edit_comment(comment, text)
        return JSONResponse(forge.comment_json(request, comment))

    forge.extra_routes(api, caller)
    return api
