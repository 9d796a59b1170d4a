"""The protected branch's head wins: what a claimed apply item applies, given every event it answers for.

In GitOps the branch head is the truth (Flux reconciles the head, not an event). So an apply never takes its
commit from an event: it applies the head as fetched when its item is claimed. Each event's commit is only
checked against that head and the cluster's last applied commit:
- not on the branch: refused (only merged commits are ever applied);
- already contained in the last applied commit: covered by that earlier run, nothing is applied again;
- otherwise (or a timer's event, which names no commit): the head is applied, and the run answers for it.
Arrival order therefore cannot matter: an older push redelivered after a newer one is either covered or
carried along by the newer head, never applied after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from runner.engine.service.queue import Ask

Contains = Callable[[str, str], bool]  # (ancestor, descendant): does `descendant` already contain `ancestor`?


@dataclass(frozen=True)
class Verdict:
    head: str | None  # the commit to apply now; None when every event is covered or refused
    deliveries: tuple[str, ...]  # delivery ids answered: by the new run, or else by the run that covered them
    refused: tuple[Ask, ...]  # events naming a commit the branch does not contain


def judge(asks: Iterable[Ask], head: str, last_applied: str | None, contains: Contains) -> Verdict:
    if last_applied is not None and not contains(last_applied, head):
        last_applied = None  # the branch was rewritten past it: what it applied covers nothing any more
    refused: list[Ask] = []
    answered: dict[str, None] = {}
    fresh = False
    for ask in asks:
        if ask.commit and not contains(ask.commit, head):
            refused.append(ask)
            continue
        if ask.delivery:
            answered[ask.delivery] = None
        if not ask.commit or last_applied is None or not contains(ask.commit, last_applied):
            fresh = True
    return Verdict(head if fresh else None, tuple(answered), tuple(refused))


def deliveries(asks: Iterable[Ask]) -> tuple[str, ...]:
    """The delivery ids of some events, each once, in order (timers have none)."""
    return tuple(dict.fromkeys(a.delivery for a in asks if a.delivery))
