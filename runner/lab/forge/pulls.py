"""Pull requests on the forge twin: opened or updated by a branch push, merged on request, and the
pull_request webhook the forge sends for each, in GitHub's or Gitea's payload shape.

Shapes follow the forges' documented payloads (octokit/webhooks `payload-examples/api.github.com/
pull_request/{opened,synchronize,closed}`; Gitea `modules/structs/hook.go` PullRequestPayload, whose
sync action is `synchronized`). The twin signs with its own HMAC, as a forge does; it never uses the
runner's code to do so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Flavor = Literal["gitea", "github"]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


ZERO = "0" * 40


@dataclass
class Pull:
    number: int
    repo: str
    head: str  # branch name
    sha: str
    base: str
    title: str
    state: str = "open"  # open | closed
    merged: bool = False
    merge_sha: str = ""
    before: str = ""  # the head before the last synchronize
    created_at: str = field(default_factory=now_iso)


@dataclass
class WebhookTarget:
    url: str
    secret: str
    flavor: Flavor = "gitea"


@dataclass
class Pulls:
    """The twin's pull requests; `merge` is wired by the lab to its git server (fast-forward or merge commit)."""

    issue_number: Callable[[str], int]  # the next issue/PR number of a repo (they share one sequence)
    merge: Callable[[Pull], str] | None = None
    webhook: WebhookTarget | None = None
    by_number: dict[tuple[str, int], Pull] = field(default_factory=dict)
    deliveries: list[str] = field(default_factory=list)  # "<event> <action> #<n>: <status>" lines
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open_for(self, repo: str, head: str) -> Pull | None:
        return next(
            (
                p
                for p in self.by_number.values()
                if p.repo.lower() == repo.lower() and p.head == head and p.state == "open"
            ),
            None,
        )

    def pushed(self, repo: str, ref: str, after: str, base: str) -> tuple[Pull, str] | None:
        """A branch push: opens a PR for a new branch, synchronizes an open one, closes one on deletion."""
        head = ref.removeprefix("refs/heads/")
        if not ref.startswith("refs/heads/") or head == base:
            return None
        with self.lock:
            pull = self.open_for(repo, head)
            if after == ZERO:
                if pull is None:
                    return None
                pull.state = "closed"
                return pull, "closed"
            if pull is None:
                number = self.issue_number(repo)
                pull = Pull(number, repo, head, after, base, title=head.replace("-", " "))
                self.by_number[(repo.lower(), number)] = pull
                return pull, "opened"
            if pull.sha == after:
                return None
            pull.before, pull.sha = pull.sha, after
            return pull, "synchronize"

    def merged(self, repo: str, number: int) -> Pull:
        with self.lock:
            pull = self.by_number.get((repo.lower(), number))
            if pull is None or pull.state != "open":
                raise LookupError(f"no open pull request #{number} in {repo}")
            if self.merge is None:
                raise LookupError("this forge twin has no git server to merge into")
            pull.merge_sha = self.merge(pull)
            pull.state, pull.merged = "closed", True
            return pull

    # --- the pull_request webhook --------------------------------------------------------------
    def send(self, pull: Pull, action: str, clone_url: str) -> str:
        target = self.webhook
        if target is None:
            return "no webhook configured"
        if target.flavor == "gitea" and action == "synchronize":
            action = "synchronized"  # Gitea's spelling
        body = json.dumps(payload(pull, action, target.flavor, clone_url)).encode()
        result = _post(target, body)
        self.deliveries.append(f"pull_request {action} #{pull.number}: {result}")
        return result


def _repository(full_name: str, clone_url: str) -> dict[str, Any]:
    owner, name = full_name.split("/", 1)
    html = f"http://lab.invalid/{full_name}"
    return {
        "id": 1,
        "name": name,
        "full_name": full_name,
        "owner": {"id": 1, "login": owner, "username": owner},
        "private": True,
        "html_url": html,
        "clone_url": clone_url,
        "default_branch": "main",
    }


def payload(pull: Pull, action: str, flavor: Flavor, clone_url: str) -> dict[str, Any]:
    repository = _repository(pull.repo, clone_url)
    html = f"http://lab.invalid/{pull.repo}/pull{'s' if flavor == 'gitea' else ''}/{pull.number}"
    body: dict[str, Any] = {
        "action": action,
        "number": pull.number,
        "pull_request": {
            "id": pull.number,
            "number": pull.number,
            "state": pull.state,
            "title": pull.title,
            "html_url": html,
            "merged": pull.merged,
            "merge_commit_sha": pull.merge_sha or None,
            "head": {"label": pull.head, "ref": pull.head, "sha": pull.sha, "repo": repository},
            "base": {"label": pull.base, "ref": pull.base, "repo": repository},
            "user": {"id": 1, "login": "operator"},
            "created_at": pull.created_at,
        },
        "repository": repository,
        "sender": {"id": 1, "login": "operator"},
    }
    if flavor == "github" and action == "synchronize":
        body["before"], body["after"] = pull.before, pull.sha
    return body


def _post(target: WebhookTarget, body: bytes) -> str:
    signature = hmac.new(target.secret.encode(), body, hashlib.sha256).hexdigest()
    delivery = str(uuid.uuid4())
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
    if target.flavor == "github":
        headers |= {
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": delivery,
            "User-Agent": "GitHub-Hookshot/lab",
        }
    else:
        for prefix in ("X-Gitea", "X-Gogs", "X-GitHub"):
            headers |= {f"{prefix}-Event": "pull_request", f"{prefix}-Delivery": delivery}
        headers |= {"X-Gitea-Signature": signature, "X-Gogs-Signature": signature}
    request = urllib.request.Request(target.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.status)
    except urllib.error.HTTPError as exc:
        return str(exc.code)
    except OSError as exc:
        return f"error {exc}"
