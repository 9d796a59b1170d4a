"""The post-receive hook's body: build a Gitea- or GitHub-shaped push payload per ref, sign it, POST it.

Runs inside the bare repository (git sets GIT_DIR), reads `<old> <new> <ref>` lines on stdin like
every post-receive hook, and never fails the push: delivery problems go to stderr and the hook log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pygit2

Flavor = Literal["gitea", "github"]
ZERO = "0" * 40
HOOK_CONFIG = "lab-webhook.json"  # inside the bare repo: URL, secret, flavour, repository names
HOOK_LOG = "lab-webhook.log"  # one line per delivery (status code or error), for the operator and tests
SENT_DIR = "lab-webhook-deliveries"  # each delivery's event and body, kept so it can be redelivered
MAX_COMMITS = 20


def _user(sig: pygit2.Signature) -> dict[str, str]:
    return {"name": sig.name, "email": sig.email, "username": sig.name.lower().replace(" ", "-")}


def _commit_json(repo: pygit2.Repository, commit: pygit2.Commit, html: str) -> dict[str, Any]:
    # Against the first parent, like the forges; a root commit is diffed against the empty tree.
    diff = commit.parents[0].tree.diff_to_tree(commit.tree) if commit.parents else commit.tree.diff_to_tree(swap=True)
    added: list[str] = []
    removed: list[str] = []
    modified: list[str] = []
    for delta in diff.deltas:
        bucket = {"A": added, "D": removed}.get(delta.status_char(), modified)
        bucket.append(delta.new_file.path if delta.status_char() != "D" else delta.old_file.path)
    stamp = datetime.fromtimestamp(commit.commit_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": str(commit.id),
        "tree_id": str(commit.tree_id),
        "distinct": True,
        "message": commit.message,
        "timestamp": stamp,
        "url": f"{html}/commit/{commit.id}",
        "author": _user(commit.author),
        "committer": _user(commit.committer),
        "added": added,
        "removed": removed,
        "modified": modified,
    }


def push_payload(repo: pygit2.Repository, old: str, new: str, ref: str, config: dict[str, Any]) -> dict[str, Any]:
    full_name = str(config["full_name"])
    owner, name = full_name.split("/", 1)
    html = f"http://lab.invalid/{full_name}"
    commits: list[dict[str, Any]] = []
    if new != ZERO:
        walker = repo.walk(pygit2.Oid(hex=new), pygit2.enums.SortMode.TOPOLOGICAL)
        if old != ZERO:
            walker.hide(pygit2.Oid(hex=old))
        for commit in walker:
            commits.append(_commit_json(repo, commit, html))
            if len(commits) >= MAX_COMMITS:
                break
    commits.reverse()  # forges list the pushed commits oldest first
    owner_json = {"id": 1, "login": owner, "name": owner, "username": owner}
    repository = {
        "id": 1,
        "name": name,
        "full_name": full_name,
        "owner": owner_json,
        "private": True,
        "html_url": html,
        "clone_url": str(config["clone_url"]),
        "ssh_url": f"git@lab.invalid:{full_name}.git",
        "default_branch": "main",
    }
    payload: dict[str, Any] = {
        "ref": ref,
        "before": old,
        "after": new,
        "commits": commits,
        "head_commit": commits[-1] if commits else None,
        "repository": repository,
        "pusher": {"login": "operator", "name": "operator", "email": "operator@lab.invalid"},
        "sender": {"login": "operator", "id": 1},
    }
    if config.get("flavor") == "github":
        payload |= {
            "created": old == ZERO,
            "deleted": new == ZERO,
            "forced": False,
            "base_ref": None,
            "compare": f"{html}/compare/{old[:12]}...{new[:12]}",
        }
    else:
        payload |= {"compare_url": f"{html}/compare/{old}...{new}", "total_commits": len(commits)}
    return payload


def headers_for(flavor: Flavor, body: bytes, secret: str, delivery: str) -> dict[str, str]:
    sha256 = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    sha1 = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    if flavor == "github":
        return {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/lab",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": delivery,
            "X-GitHub-Hook-ID": "1",
            "X-Hub-Signature": f"sha1={sha1}",
            "X-Hub-Signature-256": f"sha256={sha256}",
        }
    # Gitea sends its own headers, the Gogs ones and GitHub-compatible ones, all on every delivery.
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature": f"sha1={sha1}",
        "X-Hub-Signature-256": f"sha256={sha256}",
    }
    for prefix in ("X-Gitea", "X-Gogs", "X-GitHub"):
        headers |= {f"{prefix}-Delivery": delivery, f"{prefix}-Event": "push", f"{prefix}-Event-Type": "push"}
    headers |= {"X-Gitea-Signature": sha256, "X-Gogs-Signature": sha256}
    return headers


def deliver(url: str, body: bytes, headers: dict[str, str], timeout: float = 10.0) -> str:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return f"{response.status} {response.read(200).decode(errors='replace')}"
    except urllib.error.HTTPError as exc:
        return f"{exc.code} {exc.read(200).decode(errors='replace')}"
    except OSError as exc:
        return f"error {exc}"


def send(git_dir: Path, config: dict[str, Any], delivery: str, ref: str, new: str, body: bytes) -> str:
    """POST one push delivery, signed with the webhook's secret, and log how it went."""
    headers = headers_for(config.get("flavor", "gitea"), body, str(config["secret"]), delivery)
    result = deliver(str(config["url"]), body, headers)
    with (git_dir / HOOK_LOG).open("a") as log:
        log.write(f"{delivery} {ref} {new} {result.splitlines()[0] if result else ''}\n")
    return result


def redeliver(git_dir: Path, delivery: str) -> tuple[str, str]:
    """Send a past delivery again, as an operator's "Redeliver" does: the same payload, and the same delivery id
    on GitHub (its docs: "the X-GitHub-Delivery header will be the same as in the original delivery") but a new
    one on Gitea (`ReplayHookTask` copies the task through `CreateHookTask`, which draws a new UUID).
    Neither forge redelivers on its own. Returns (the id sent, the reply)."""
    config = json.loads((git_dir / HOOK_CONFIG).read_text())
    sent = json.loads((git_dir / SENT_DIR / f"{delivery}.json").read_text())
    delivery_id = delivery if config.get("flavor") == "github" else str(uuid.uuid4())
    body = str(sent["body"]).encode()
    if delivery_id != delivery:
        (git_dir / SENT_DIR / f"{delivery_id}.json").write_text(json.dumps(sent))
    return delivery_id, send(git_dir, config, delivery_id, str(sent["ref"]), str(sent["new"]), body)


def post_receive_main() -> int:
    git_dir = Path(os.environ.get("GIT_DIR", ".")).resolve()
    config_file = git_dir / HOOK_CONFIG
    if not config_file.exists():
        return 0  # no webhook configured: a plain git server
    config = json.loads(config_file.read_text())
    repo = pygit2.Repository(str(git_dir))
    for line in sys.stdin.read().splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        old, new, ref = parts
        body = json.dumps(push_payload(repo, old, new, ref, config), indent=2).encode()
        delivery = str(uuid.uuid4())
        (git_dir / SENT_DIR).mkdir(exist_ok=True)
        sent = {"ref": ref, "new": new, "body": body.decode()}
        (git_dir / SENT_DIR / f"{delivery}.json").write_text(json.dumps(sent))
        result = send(git_dir, config, delivery, ref, new, body)
        # What `git push` shows as "remote: ...": the status line, not the whole reply.
        print(f"webhook for {ref}: {result.split(' ', 1)[0]} ({delivery[:8]})", file=sys.stderr)
        if config.get("forge_url") and ref != f"refs/heads/{config.get('branch', 'main')}":
            print(f"pull request: {_tell_forge(config, old, new, ref)}", file=sys.stderr)
    return 0


def _tell_forge(config: dict[str, Any], old: str, new: str, ref: str) -> str:
    """A pushed branch other than the protected one: the forge opens (or updates) its pull request."""
    report = {
        "repo": config["full_name"],
        "ref": ref,
        "before": old,
        "after": new,
        "base": config.get("branch", "main"),
        "clone_url": config["clone_url"],
    }
    body = json.dumps(report).encode()
    request = urllib.request.Request(
        f"{config['forge_url']}/_lab/git/pushed", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            reply = json.loads(response.read())
    except (OSError, ValueError) as exc:
        return f"forge not told ({exc})"
    if "number" not in reply:
        return str(reply.get("status", reply))
    return f"#{reply['number']} {reply['action']} (webhook {reply['webhook']})"
