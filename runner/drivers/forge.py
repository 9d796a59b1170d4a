"""Forges (GitHub, Gitea/Forgejo) over httpx: commit statuses and one upserted plan comment per PR.

The plan comment is found again by a hidden HTML marker (`<!-- runner:plan:<cluster> -->`) *and* its
author: only a comment the runner's own forge identity wrote (`GET /user`) is ever edited, so a person
quoting the marker never has their comment overwritten. Failures the forge asks to be retried (5xx,
429, a rate-limit 403) are `ForgeBusy` with the wait the forge named (`Retry-After`, `x-ratelimit-reset`).
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
DESCRIPTION_LIMIT = 140  # GitHub refuses longer status descriptions (422); keep ours readable everywhere
GITHUB_COMMENT_LIMIT = 65536  # GitHub refuses longer comment bodies (422 "body is too long")
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


def plan_marker(cluster: str) -> str:
    return f"<!-- runner:plan:{cluster} -->"


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
        self, base_url: str, token: Secret, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        import httpx

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

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        import httpx

        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise Transient(f"{self.kind} {method} {url}: timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise Transient(f"{self.kind} {method} {url}: {type(exc).__name__}: {exc}") from None
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

    def repo_permissions(self, repo: str) -> dict[str, bool]:
        """What the token may do on the repository: `permissions` of GET /repos/{repo} (both forges)."""
        body = self._request("GET", f"/repos/{repo}").json()
        permissions = body.get("permissions") if isinstance(body, dict) else None
        return {str(k): bool(v) for k, v in (permissions or {}).items()}

    def identity(self) -> str:
        """The login the token belongs to (`GET /user` on both forges), asked once."""
        with self._login_lock:
            if self._login is None:
                login = self._request("GET", "/user").json().get("login")
                if not isinstance(login, str) or not login:
                    raise Permanent(f"{self.kind} GET /user: no login in the reply")
                self._login = login
            return self._login

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


def make_forge(kind: str, url: str, token: Secret | None) -> Forge | None:
    if kind == "none":
        return None
    if token is None:
        raise Permanent(f"forge_kind={kind} needs forge_token (RUNNER_FORGE_TOKEN)")
    if kind == "github":
        return GitHubForge(url, token)
    if kind == "gitea":
        return GiteaForge(url, token)
    raise Permanent(f"forge_kind: unknown forge {kind!r} (github, gitea or none)")
