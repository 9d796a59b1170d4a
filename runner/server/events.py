"""Forge webhook payloads -> what to do about them (pure: no I/O, easy to test on real sample payloads).

Shapes follow the forges' documented payloads: GitHub `push` / `pull_request` / `ping`, Gitea and
Forgejo `push` / `pull_request` (whose sync action is spelled `synchronized`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runner.engine.queue import ANY_CLUSTER, RunRequest

ZERO_SHA = "0" * 40
PLAN_ACTIONS = {"opened", "reopened", "synchronize", "synchronized"}


@dataclass(frozen=True)
class Target:
    """The repository and protected branch this runner serves."""

    full_name: str
    url: str
    branch: str

    def matches(self, repository: dict[str, Any]) -> bool:
        name = str(repository.get("full_name") or "")
        urls = {str(repository.get(k) or "") for k in ("clone_url", "ssh_url", "html_url", "git_url", "url")}
        return name.lower() == self.full_name.lower() or self.url in urls


@dataclass(frozen=True)
class Decision:
    status: str  # "queued" | "ignored" | "pong" | "closed"
    reason: str
    request: RunRequest | None = None
    every_cluster: bool = False
    close_pr: int | None = None
    changed: tuple[str, ...] = field(default=())


def _ignore(reason: str) -> Decision:
    return Decision("ignored", reason)


def _changed_paths(payload: dict[str, Any]) -> tuple[str, ...]:
    paths: set[str] = set()
    for commit in payload.get("commits") or []:
        for key in ("added", "modified", "removed"):
            paths.update(str(p) for p in commit.get(key) or [])
    return tuple(sorted(paths))


def decide(event: str, payload: dict[str, Any], target: Target, delivery_id: str | None) -> Decision:
    """One forge event -> queue a run, ignore it (with the reason), or close a PR's pending plans."""
    if event == "ping":
        return Decision("pong", "ping")
    repository = payload.get("repository")
    if not isinstance(repository, dict):
        return _ignore(f"{event} event without a repository")
    if not target.matches(repository):
        return _ignore(f"repository {repository.get('full_name')!r} is not {target.full_name!r}")
    if event == "push":
        return _push(payload, target, delivery_id)
    if event == "pull_request":
        return _pull_request(payload, target, delivery_id)
    return _ignore(f"event {event!r} is not handled")


def _push(payload: dict[str, Any], target: Target, delivery_id: str | None) -> Decision:
    ref = str(payload.get("ref") or "")
    after = str(payload.get("after") or "")
    if ref != f"refs/heads/{target.branch}":
        return _ignore(f"ref {ref!r} is not the protected branch {target.branch!r}")
    if payload.get("deleted") or after in ("", ZERO_SHA):
        return _ignore("branch deleted")
    request = RunRequest(
        cluster=ANY_CLUSTER,
        commit=after,
        ref=ref,
        trigger="push",
        mode="apply",
        repo=target.full_name,
        delivery_id=delivery_id,
    )
    return Decision("queued", f"push {after[:12]}", request, changed=_changed_paths(payload))


def _pull_request(payload: dict[str, Any], target: Target, delivery_id: str | None) -> Decision:
    action = str(payload.get("action") or "")
    pr = payload.get("pull_request") or {}
    number = int(payload.get("number") or pr.get("number") or 0)
    base_ref = str((pr.get("base") or {}).get("ref") or "")
    if base_ref != target.branch:
        return _ignore(f"pull request #{number} targets {base_ref!r}, not {target.branch!r}")
    if action == "closed":
        merged = "merged" if pr.get("merged") else "closed"
        return Decision("closed", f"pull request #{number} {merged}", close_pr=number)
    if action not in PLAN_ACTIONS:
        return _ignore(f"pull request action {action!r} needs no plan")
    head = pr.get("head") or {}
    sha = str(head.get("sha") or "")
    if len(sha) != 40:
        return _ignore(f"pull request #{number} without a head sha")
    request = RunRequest(
        cluster=ANY_CLUSTER,
        commit=sha,
        ref=str(head.get("ref") or ""),
        trigger="pull_request",
        mode="plan",
        repo=target.full_name,
        pr_number=number,
        delivery_id=delivery_id,
        base_ref=base_ref,
        fork=_from_fork(pr),
    )
    return Decision("queued", f"pull request #{number} {action} {sha[:12]}", request)


def _from_fork(pr: dict[str, Any]) -> bool:
    """A head in another repository (or one the forge no longer names, a deleted fork) is a fork."""
    head_repo = (pr.get("head") or {}).get("repo") or {}
    base_repo = (pr.get("base") or {}).get("repo") or {}
    head_name, base_name = str(head_repo.get("full_name") or ""), str(base_repo.get("full_name") or "")
    return not head_name or head_name.lower() != base_name.lower()


def decide_generic(payload: dict[str, Any], target: Target, delivery_id: str | None) -> Decision:
    """The generic hook: {"ref": "main", "commit"?: sha, "cluster"?: name, "mode"?: "apply"|"plan", "repo"?: o/n}."""
    repo = payload.get("repo")
    if repo is not None and str(repo).lower() != target.full_name.lower():
        return _ignore(f"repository {repo!r} is not {target.full_name!r}")
    ref = str(payload.get("ref") or target.branch)
    mode = str(payload.get("mode") or "apply")
    if mode not in ("apply", "plan"):
        return _ignore(f"mode {mode!r} is not apply or plan")
    if mode == "apply" and ref not in (target.branch, f"refs/heads/{target.branch}"):
        return _ignore(f"ref {ref!r} is not the protected branch {target.branch!r}; only plans run there")
    cluster = str(payload.get("cluster") or ANY_CLUSTER)
    request = RunRequest(
        cluster=cluster,
        commit=str(payload.get("commit") or ""),
        ref=ref,
        trigger="manual",
        mode=mode,  # type: ignore[arg-type]
        repo=target.full_name,
        delivery_id=delivery_id,
    )
    return Decision("queued", f"manual {mode} of {cluster}", request, every_cluster=cluster == ANY_CLUSTER)
