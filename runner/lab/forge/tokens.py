"""What a forge token may do, as the twin imitates it: the kind of token, and what each route needs.

GitHub (token prefixes: github.blog changelog 2021-03-31, "Authentication token format updates"):
- `ghs_` is a GitHub App installation (server-to-server) token. It acts as `<app-slug>[bot]`, only on the
  repositories of its installation (others are 404), with the App's permissions: a route whose permission
  the App lacks is 403 `Resource not accessible by integration` (docs.github.com/en/rest/authentication/
  permissions-required-for-github-apps: Commit statuses for statuses, Issues or Pull requests for issue
  comments, Metadata, which every App has, for the repository). `GET /user` is not enabled for Apps at all (OpenAPI
  `enabledForGitHubApps: false`): 403 whatever the permissions.
- A classic personal access token's replies name its scopes in `X-OAuth-Scopes`.
Gitea (routers/api/v1/api.go, `tokenRequiresScopes`): a scoped token needs `read:<category>` for GET and
`write:<category>` (which includes read) for POST/PUT/PATCH/DELETE, or `all`; `/user` is category user,
`/repos/{owner}/{repo}` (statuses, markup) repository, `/repos/{owner}/{repo}/issues` issue. A missing
scope is 403 `token does not have at least one of required scope(s): [write:issue]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Need(NamedTuple):
    """What a route asks of the caller's token: its category and whether it writes."""

    category: str  # user | repo | statuses | issues | installation | markup
    write: bool = False


@dataclass
class Installation:
    """A GitHub App installed on some repositories (None: all of the account's)."""

    slug: str
    permissions: dict[str, str] = field(
        default_factory=lambda: {
            "statuses": "write",
            "pull_requests": "write",
            "issues": "write",
            "contents": "read",
            "metadata": "read",
        }
    )
    repositories: set[str] | None = None  # lower-case full names

    @property
    def login(self) -> str:
        return f"{self.slug}[bot]"

    def covers(self, full_name: str) -> bool:
        return self.repositories is None or full_name.lower() in self.repositories

    def grants(self, need: Need) -> bool:
        wanted = GITHUB_PERMISSIONS.get(need.category)
        if wanted is None:
            return True
        levels = ("write",) if need.write else ("read", "write")
        return any(self.permissions.get(p) in levels for p in wanted)


# The App permissions that serve a route category (any one of them suffices). Reading the repository needs
# Metadata, which every App with repository access has (GitHub sets it back to read-only if unset).
GITHUB_PERMISSIONS = {"statuses": ("statuses",), "issues": ("issues", "pull_requests")}
GITEA_CATEGORIES = {
    "user": "user",
    "repo": "repository",
    "statuses": "repository",
    "markup": "repository",
    "issues": "issue",
}


def gitea_missing(scopes: frozenset[str] | None, need: Need) -> str | None:
    """The scope a Gitea token lacks for the route, e.g. `write:issue`; None when it may (or is unscoped)."""
    category = GITEA_CATEGORIES.get(need.category)
    if scopes is None or category is None or "all" in scopes:
        return None
    wanted = f"{'write' if need.write else 'read'}:{category}"
    if wanted in scopes or f"write:{category}" in scopes:
        return None
    return wanted
