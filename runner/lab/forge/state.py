"""What the forge twin remembers: tokens, repositories with their issues/PRs, statuses and comments."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.lab.forge.limits import RateLimits
from runner.lab.forge.pulls import Pulls, now_iso
from runner.lab.forge.tokens import Installation


@dataclass
class Status:
    id: int
    repo: str
    sha: str
    state: str
    context: str
    description: str
    target_url: str
    creator: str
    created_at: str


@dataclass
class Comment:
    id: int
    repo: str
    issue: int
    body: str
    user: str
    created_at: str
    updated_at: str
    edits: int = 0


@dataclass
class Repo:
    full_name: str
    issues: dict[int, bool] = field(default_factory=dict)  # number -> is a pull request


class ForgeState:
    """Thread-safe store shared by the GitHub and Gitea routes (one twin can play both)."""

    def __init__(self, commit_exists: Callable[[str, str], bool] | None = None) -> None:
        self.lock = threading.Lock()
        self.tokens: dict[str, str] = {}  # token -> user login
        self.roles: dict[str, str] = {}  # login -> "write" (collaborator) or "read"
        self.installations: dict[str, Installation] = {}  # GitHub App installation token -> its installation
        self.oauth_scopes: dict[str, str] = {}  # GitHub classic token -> its X-OAuth-Scopes
        self.gitea_scopes: dict[str, frozenset[str]] = {}  # Gitea scoped token -> its scopes
        self.limits = RateLimits()
        self.pulls = Pulls(issue_number=self.next_issue)
        self.repos: dict[str, Repo] = {}  # lower-case full name -> repo
        self.statuses: list[Status] = []
        self.comments: dict[int, Comment] = {}
        self._ids = 0
        self.commits: dict[str, set[str]] = {}  # lower-case full name -> commits seeded without a git server
        # Real forges refuse statuses for commits they do not have: the lab plugs in its git server.
        self.commit_exists = commit_exists or self.knows_commit

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    # --- seeding (tests and the lab) --------------------------------------------------------------
    def add_token(
        self,
        token: str,
        user: str = "runner-bot",
        role: str = "write",
        *,
        oauth_scopes: str | None = None,
        gitea_scopes: frozenset[str] | None = None,
    ) -> None:
        self.tokens[token] = user
        self.roles[user] = role
        if oauth_scopes is not None:
            self.oauth_scopes[token] = oauth_scopes
        if gitea_scopes is not None:
            self.gitea_scopes[token] = gitea_scopes

    def add_app_token(self, token: str, installation: Installation) -> None:
        """An installation token (`ghs_...`) of a GitHub App: it acts as the App's bot."""
        self.installations[token] = installation
        write = any(installation.permissions.get(p) == "write" for p in ("issues", "pull_requests"))
        self.add_token(token, installation.login, "write" if write else "read")

    def may_edit(self, login: str, comment: Comment) -> bool:
        """Both forges: the author may edit a comment, and so may anyone with write access to the repo."""
        return comment.user == login or self.roles.get(login) == "write"

    def may_write(self, token: str | None) -> bool:
        """GET /repos shows push=true only for a token whose user has write access."""
        return token is not None and token in self.tokens and self.roles.get(self.tokens[token]) == "write"

    def add_repo(self, full_name: str) -> Repo:
        return self.repos.setdefault(full_name.lower(), Repo(full_name))

    def add_commit(self, full_name: str, sha: str) -> None:
        self.commits.setdefault(full_name.lower(), set()).add(sha)

    def knows_commit(self, full_name: str, sha: str) -> bool:
        """A seeded commit, or one a pull request's push brought."""
        pulls = (p for p in self.pulls.by_number.values() if p.repo.lower() == full_name.lower())
        return sha in self.commits.get(full_name.lower(), set()) or any(sha in (p.sha, p.merge_sha) for p in pulls)

    def add_pull(self, full_name: str, number: int) -> None:
        self.add_repo(full_name).issues[number] = True

    def next_issue(self, full_name: str) -> int:
        """Issues and pull requests share one number sequence per repository."""
        repo = self.add_repo(full_name)
        number = max(repo.issues, default=0) + 1
        repo.issues[number] = True
        return number

    # --- lookups ----------------------------------------------------------------------------------
    def repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get(f"{owner}/{name}".lower())

    def repo_by_id(self, repo_id: int, ids: Callable[[str], int]) -> Repo | None:
        return next((r for r in self.repos.values() if ids(r.full_name) == repo_id), None)

    def add_status(self, repo: Repo, sha: str, body: dict[str, Any], login: str, default_context: str) -> Status:
        """What both forges record on POST .../statuses/{sha} once the request passed their own checks."""
        with self.lock:
            status = Status(
                id=self.next_id(),
                repo=repo.full_name,
                sha=sha,
                state=body["state"],
                context=str(body.get("context") or default_context),
                description=str(body.get("description") or ""),
                target_url=str(body.get("target_url") or ""),
                creator=login,
                created_at=now_iso(),
            )
            self.statuses.append(status)
        return status

    def add_comment(self, repo: Repo, number: int, body: str, login: str) -> Comment:
        """What both forges do on POST .../issues/{n}/comments once the request passed their own checks."""
        with self.lock:
            stamp = now_iso()
            comment = Comment(self.next_id(), repo.full_name, number, body, login, stamp, stamp)
            self.comments[comment.id] = comment
        return comment

    def edit_comment(self, comment: Comment, body: str) -> None:
        with self.lock:
            comment.body, comment.updated_at, comment.edits = body, now_iso(), comment.edits + 1

    def user_for(self, token: str | None) -> str | None:
        return self.tokens.get(token) if token else None

    def statuses_for(self, repo: str, sha: str) -> list[Status]:
        return [s for s in self.statuses if s.repo.lower() == repo.lower() and s.sha == sha]

    def comments_on(self, repo: str, issue: int) -> list[Comment]:
        return sorted(
            (c for c in self.comments.values() if c.repo.lower() == repo.lower() and c.issue == issue),
            key=lambda c: c.id,
        )
