"""What the queue holds: a request to reconcile, the events (asks) an item answers for, and the item itself."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Trigger = Literal["push", "pull_request", "drift", "poll", "manual"]
Mode = Literal["apply", "plan"]
ANY_CLUSTER = "*"


@dataclass(frozen=True)
class RunRequest:
    """What to reconcile: one cluster at one commit, applied (protected branch) or planned (PR)."""

    cluster: str
    commit: str  # "" = the head of `ref` when the work starts (drift, generic hooks without a commit)
    ref: str
    trigger: Trigger
    mode: Mode
    repo: str
    pr_number: int | None = None
    delivery_id: str | None = None
    base_ref: str | None = None  # a PR's target branch, to diff against
    fork: bool = False  # a PR whose head lives in another repository: planned offline unless settings allow

    @property
    def key(self) -> str:
        return f"{self.cluster}|{self.mode}|{self.pr_number or ''}"


@dataclass(frozen=True)
class Ask:
    """One event an item answers for: its delivery id (None for timers) and the commit it named ("" = the head)."""

    delivery: str | None
    commit: str

    @staticmethod
    def of(request: RunRequest) -> Ask:
        return Ask(request.delivery_id, request.commit)


@dataclass(frozen=True)
class QueueItem:
    id: int
    request: RunRequest
    attempts: int
    every_cluster: bool  # expand to every cluster, not only the ones the commit touches (drift, manual)
    asks: tuple[Ask, ...] = ()  # every event joined into this item, oldest first


def asks_of(text: str) -> list[Ask]:
    return [Ask(delivery, commit) for delivery, commit in json.loads(text or "[]")]


def joined(*groups: Iterable[Ask]) -> str:
    """The asks of several items as one list, in order, each once (a redelivery with the same id is one ask)."""
    seen: dict[Ask, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return json.dumps([[a.delivery, a.commit] for a in seen])


@dataclass(frozen=True)
class Enqueued:
    id: int
    coalesced: bool


def item_of(row: dict[str, Any]) -> QueueItem:
    request = RunRequest(
        cluster=row["cluster"],
        commit=row["commit_sha"],
        ref=row["ref"],
        trigger=row["trigger"],
        mode=row["mode"],
        repo=row["repo"],
        pr_number=row["pr"],
        delivery_id=row["delivery_id"],
        base_ref=row["base_ref"],
        fork=bool(row.get("fork")),
    )
    asks = tuple(asks_of(row.get("asks", "[]"))) or (Ask.of(request),)  # an item from before asks were kept
    return QueueItem(row["id"], request, row["attempts"], bool(row["every_cluster"]), asks)


def event_columns(request: RunRequest, every_cluster: bool) -> dict[str, Any]:
    """What an event sets on its item: a new one, or the pending one it coalesces into."""
    return {
        "commit_sha": request.commit,
        "ref": request.ref,
        "base_ref": request.base_ref,
        "trigger": request.trigger,
        "repo": request.repo,
        "delivery_id": request.delivery_id,
        "every_cluster": int(every_cluster),
        "fork": int(request.fork),
    }
