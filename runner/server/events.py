"""Forge webhook payloads -> what to do about them (pure: no I/O, easy to test on real sample payloads).

Shapes follow the forges' documented payloads: GitHub `push` / `pull_request` / `ping`, Gitea and
Forgejo `push` / `pull_request` (whose sync action is spelled `synchronized`). Payloads are read
through the typed models of `payloads`, so a malformed one is a `BadPayload` (400), never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runner.engine.service.queue import ANY_CLUSTER, RunRequest
from runner.server.payloads import (
    Envelope,
    GenericEvent,
    PullRequest,
    PullRequestEvent,
    PushEvent,
    Repository,
    typed,
)

ZERO_SHA = "0" * 40
PLAN_ACTIONS = {"opened", "reopened", "synchronize", "synchronized"}


@dataclass(frozen=True)
class Target:
    """The repository and protected branch this runner serves."""

    full_name: str
    url: str
    branch: str

    def matches(self, repository: Repository) -> bool:
        return repository.full_name.lower() == self.full_name.lower() or self.url in repository.urls()


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


def _changed_paths(event: PushEvent) -> tuple[str, ...]:
    paths: set[str] = set()
    for commit in event.commits or []:
        paths.update(commit.added, commit.modified, commit.removed)
    return tuple(sorted(paths))


def decide(event: str, payload: dict[str, Any], target: Target, delivery_id: str | None) -> Decision:
    """One forge event -> queue a run, ignore it (with the reason), or close a PR's pending plans."""
    if event == "ping":
        return Decision("pong", "ping")
    repository = typed(Envelope, payload, event or "event").repository
    if repository is None:
        return _ignore(f"{event} event without a repository")
    if not target.matches(repository):
        return _ignore(f"repository {repository.full_name!r} is not {target.full_name!r}")
    if event == "push":
        return _push(typed(PushEvent, payload, "push"), target, delivery_id)
    if event == "pull_request":
        return _pull_request(typed(PullRequestEvent, payload, "pull_request"), target, delivery_id)
    return _ignore(f"event {event!r} is not handled")


def _push(event: PushEvent, target: Target, delivery_id: str | None) -> Decision:
    ref, after = event.ref, event.after.lower()
    if ref != f"refs/heads/{target.branch}":
        return _ignore(f"ref {ref!r} is not the protected branch {target.branch!r}")
    if event.deleted or after == ZERO_SHA:
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
    return Decision("queued", f"push {after[:12]}", request, changed=_changed_paths(event))


def _pull_request(event: PullRequestEvent, target: Target, delivery_id: str | None) -> Decision:
    action, pr = event.action, event.pull_request
    number = event.number or pr.number or 0
    base_ref = pr.base.ref
    if base_ref != target.branch:
        return _ignore(f"pull request #{number} targets {base_ref!r}, not {target.branch!r}")
    if action == "closed":
        merged = "merged" if pr.merged else "closed"
        return Decision("closed", f"pull request #{number} {merged}", close_pr=number)
    if action not in PLAN_ACTIONS:
        return _ignore(f"pull request action {action!r} needs no plan")
    sha = pr.head.sha.lower()
    if not sha:
        return _ignore(f"pull request #{number} without a head sha")
    request = RunRequest(
        cluster=ANY_CLUSTER,
        commit=sha,
        ref=pr.head.ref,
        trigger="pull_request",
        mode="plan",
        repo=target.full_name,
        pr_number=number,
        delivery_id=delivery_id,
        base_ref=base_ref,
        fork=_from_fork(pr),
    )
    return Decision("queued", f"pull request #{number} {action} {sha[:12]}", request)


def _from_fork(pr: PullRequest) -> bool:
    """A head in another repository (or one the forge no longer names, a deleted fork) is a fork."""
    head_name = pr.head.repo.full_name if pr.head.repo else ""
    base_name = pr.base.repo.full_name if pr.base.repo else ""
    return not head_name or head_name.lower() != base_name.lower()


def decide_generic(payload: dict[str, Any], target: Target, delivery_id: str | None) -> Decision:
    """The generic hook: {"ref": "main", "commit"?: sha, "cluster"?: name, "mode"?: "apply"|"plan", "repo"?: o/n}."""
    event = typed(GenericEvent, payload, "generic")
    if event.repo is not None and event.repo.lower() != target.full_name.lower():
        return _ignore(f"repository {event.repo!r} is not {target.full_name!r}")
    ref, mode = event.ref or target.branch, event.mode
    if mode == "apply" and ref not in (target.branch, f"refs/heads/{target.branch}"):
        return _ignore(f"ref {ref!r} is not the protected branch {target.branch!r}; only plans run there")
    cluster = event.cluster or ANY_CLUSTER
    request = RunRequest(
        cluster=cluster,
        commit=(event.commit or "").lower(),
        ref=ref,
        trigger="manual",
        mode=mode,
        repo=target.full_name,
        delivery_id=delivery_id,
    )
    return Decision("queued", f"manual {mode} of {cluster}", request, every_cluster=cluster == ANY_CLUSTER)
