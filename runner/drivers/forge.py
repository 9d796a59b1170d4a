"""Forges (GitHub, Gitea/Forgejo) over httpx: commit statuses and one upserted plan comment per PR.

The plan comment is found again by a hidden HTML marker (`<!-- runner:plan:<cluster> -->`) *and* its
author: only a comment the runner's own forge identity wrote is ever edited, so a person quoting the
marker never has their comment overwritten. That identity is `forge_bot_login` when set, else the token's
user (`GET /user`). A GitHub App installation token (`ghs_`) has no user: GitHub refuses it `GET /user`
(403 "Resource not accessible by integration"), so it needs `forge_bot_login` (`<app-slug>[bot]`).
Failures the forge asks to be retried (5xx, 429, a rate-limit 403) are `ForgeBusy` with the wait the
forge named (`Retry-After`, `x-ratelimit-reset`).
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Literal, Protocol

from runner.core.errors import Permanent, Transient
from runner.core.secret import Secret
from runner.drivers.forge_replies import ForgeBusy, rate_limited, retry_after, shorten

if TYPE_CHECKING:  # httpx (and the CLI extras it pulls in) loads only when a forge is configured
    import httpx

StatusState = Literal["pending", "success", "failure", "error"]
TokenKind = Literal["installation", "classic", "fine-grained", "other"]
DESCRIPTION_LIMIT = 140  # GitHub refuses longer status descriptions (422); keep ours readable everywhere
GITHUB_COMMENT_LIMIT = 65536  # GitHub refuses longer comment bodies (422 "body is too long")
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


def plan_marker(cluster: str) -> str:
    return f"<!-- runner:plan:{cluster} -->"


def github_token_kind(token: str) -> TokenKind:
    """By GitHub's token prefixes: `ghs_` App installation (server-to-server), `ghp_` classic personal,
    `github_pat_` fine-grained personal; anything else (`gho_`, `ghu_`, older tokens) acts as a user."""
    if token.startswith("ghs_"):
        return "installation"
    if token.startswith("ghp_"):
        return "classic"
    return "fine-grained" if token.startswith("github_pat_") else "other"


class Forge(Protocol):
    def set_status(
        self, repo: str, sha: str, state: StatusState, context: str, description: str, target_url: str | None
    ) -> None: ...

    def upsert_pr_comment(self, repo: str, pr: int, marker: str, body: str) -> int: ...


class HttpForge(ABC):
    """What GitHub and Gitea share; subclasses name the paths and the auth header."""

    api_prefix = ""
    kind = "forge"
    comment_limit: int | None = None  # characters the forge accepts in a comment body (None: no limit)

    def __init__(
        self,
        base_url: str,
        token: Secret,
        *,
        bot_login: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self.token_kind = github_token_kind(token.reveal()) if self.kind == "github" else "other"
        self.bot_login = bot_login
        self.client = httpx.Client(
            base_url=base_url.rstrip("/") + self.api_prefix,
            headers={**self._auth_headers(token), "User-Agent": "gitops-runner"},
            timeout=timeout,
            transport=transport,
        )
        self._login: str | None = None
        self._login_lock = threading.Lock()

    @abstractmethod
    def _auth_headers(self, token: Secret) -> dict[str, str]:
        """Each forge spells its token header differently."""

    def close(self) -> None:
        self.client.close()

    def _request_raw(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        import httpx

        try:
            return self.client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise Transient(f"{self.kind} {method} {url}: timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise Transient(f"{self.kind} {method} {url}: {type(exc).__name__}: {exc}") from None

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self._request_raw(method, url, **kwargs)
        if response.status_code >= 500 or response.status_code == 429 or rate_limited(response):
            wait = retry_after(response.headers)
            hint = f" (retry in {wait:.0f}s)" if wait is not None else ""
            raise ForgeBusy(f"{self.kind} {method} {url}: HTTP {response.status_code}{hint}", wait)
        if response.status_code >= 400:
            raise Permanent(f"{self.kind} {method} {url}: HTTP {response.status_code}: {self._why(response)}")
        return response

    def _why(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.text[:200]
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        if response.status_code in (401, 403):
            message += " (check forge_token and its permissions)"
        elif response.status_code == 404:
            message += " (check the repository name and that forge_token can see it)"
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            message += f": {errors}"
        return message

    def _status_body(
        self, state: StatusState, context: str, description: str, target_url: str | None
    ) -> dict[str, str]:
        body = {"state": state, "context": context, "description": description[:DESCRIPTION_LIMIT]}
        if target_url:
            body["target_url"] = target_url
        return body

    def set_status(
        self, repo: str, sha: str, state: StatusState, context: str, description: str, target_url: str | None
    ) -> None:
        self._request(
            "POST", f"/repos/{repo}/statuses/{sha}", json=self._status_body(state, context, description, target_url)
        )

    @abstractmethod
    def _comments(self, repo: str, pr: int) -> list[dict[str, Any]]:
        """Every comment of a PR (pagination differs between forges)."""

    def repository(self, repo: str) -> dict[str, Any]:
        """`GET /repos/{repo}` (both forges): `private`, `default_branch`, and the caller's `permissions`."""
        body = self._request("GET", f"/repos/{repo}").json()
        return dict(body) if isinstance(body, dict) else {}

    def repo_permissions(self, repo: str) -> dict[str, bool]:
        """What the token may do on the repository: `permissions` of GET /repos/{repo} (both forges)."""
        return {str(k): bool(v) for k, v in (self.repository(repo).get("permissions") or {}).items()}

    def whoami(self) -> tuple[str, frozenset[str] | None]:
        """`GET /user`: the token's login, and the scopes GitHub names for a classic token (`X-OAuth-Scopes`)."""
        response = self._request("GET", "/user")
        login = response.json().get("login")
        if not isinstance(login, str) or not login:
            raise Permanent(f"{self.kind} GET /user: no login in the reply")
        header = response.headers.get("x-oauth-scopes")
        scopes = frozenset(s.strip() for s in header.split(",") if s.strip()) if header is not None else None
        return login, scopes

    def identity(self) -> str:
        """Whose comments are the runner's own: `forge_bot_login`, else the token's user, asked once."""
        if self.bot_login:
            return self.bot_login
        if self.token_kind == "installation":
            raise Permanent(
                "github: forge_token is a GitHub App installation token, which GitHub refuses GET /user; "
                "set forge_bot_login to the App's bot login ('<app-slug>[bot]') so the runner knows its comments"
            )
        with self._login_lock:
            if self._login is None:
                self._login = self.whoami()[0]
            return self._login

    def refusal(self, method: str, url: str, **kwargs: Any) -> str | None:
        """A harmless request's 401/403 message (the token may not do that), or None when it was let through
        (any other answer: a probe for a comment that does not exist is a 404 once the token may)."""
        response = self._request_raw(method, url, **kwargs)
        return self._why(response) if response.status_code in (401, 403) else None

    def upsert_pr_comment(self, repo: str, pr: int, marker: str, body: str) -> int:
        text = body if marker in body else f"{marker}\n{body}"
        text = shorten(text, self.comment_limit, "plan truncated to fit the forge's comment size limit")
        me = self.identity()
        for comment in self._comments(repo, pr):
            author = (comment.get("user") or {}).get("login")
            if author == me and marker in str(comment.get("body") or ""):
                self._request("PATCH", f"/repos/{repo}/issues/comments/{comment['id']}", json={"body": text})
                return int(comment["id"])
        created = self._request("POST", f"/repos/{repo}/issues/{pr}/comments", json={"body": text}).json()
        return int(created["id"])


class GitHubForge(HttpForge):
    kind = "github"
    comment_limit = GITHUB_COMMENT_LIMIT

    def _auth_headers(self, token: Secret) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token.reveal()}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    def installation_repositories(self) -> list[str]:
        """Full names of the repositories an App installation token may reach (`GET /installation/repositories`)."""
        body = self._request("GET", "/installation/repositories?per_page=100").json()
        return [str(r.get("full_name", "")) for r in body.get("repositories") or []]

    def _comments(self, repo: str, pr: int) -> list[dict[str, Any]]:
        comments: list[dict[str, Any]] = []
        url: str | None = f"/repos/{repo}/issues/{pr}/comments?per_page=100"
        while url:  # follow the Link header: busy PRs have more than one page of comments
            response = self._request("GET", url)
            comments.extend(response.json())
            match = _NEXT_LINK.search(response.headers.get("link", ""))
            url = match.group(1) if match else None
        return comments


class GiteaForge(HttpForge):
    """Gitea and Forgejo (same API under /api/v1)."""

    kind = "gitea"
    api_prefix = "/api/v1"

    def _auth_headers(self, token: Secret) -> dict[str, str]:
        return {"Authorization": f"token {token.reveal()}", "Accept": "application/json"}

    def _comments(self, repo: str, pr: int) -> list[dict[str, Any]]:
        # Gitea's issue-comments list is not paginated (only since/before filters).
        return list(self._request("GET", f"/repos/{repo}/issues/{pr}/comments").json())


def make_forge(kind: str, url: str, token: Secret | None, bot_login: str | None = None) -> Forge | None:
    if kind == "none":
        return None
    if token is None:
        raise Permanent(f"forge_kind={kind} needs forge_token (RUNNER_FORGE_TOKEN)")
    if kind == "github":
        return GitHubForge(url, token, bot_login=bot_login)
    if kind == "gitea":
        return GiteaForge(url, token, bot_login=bot_login)
    raise Permanent(f"forge_kind: unknown forge {kind!r} (github, gitea or none)")
