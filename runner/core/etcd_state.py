"""Was etcd bootstrapped? Decided from what Talos says about etcd on every controller, never from one timeout.

Talos' etcd member list fails with "context deadline exceeded" both before any bootstrap (a controller's etcd
waits, Preparing, to join a cluster) and for a while after one (etcd in bootstrap mode pulls, starts, elects
itself; machined's health check waits 5 s). Reading that failure as "never bootstrapped" makes a restarted
runner bootstrap again - against a controller that has not joined yet, that is a second etcd cluster. So:

- a member list through any controller, or a bootstrap the runner recorded: bootstrapped;
- an etcd service that runs (state Running, healthy or not) on any controller: bootstrapped, still starting.
  A controller's etcd only ever runs after a bootstrap (it cannot join what does not exist);
- a bootstrap the runner asked for (recorded before the call) and not yet waited out: starting;
- a controller that should have answered and did not: unknown - nothing is planned on a guess;
- otherwise, every controller asked waits to join: never bootstrapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["bootstrapped", "starting", "unknown", "absent"]
RUNNING = "Running"  # machined's service state once the etcd process runs (events.StateRunning)


@dataclass(frozen=True)
class ControllerEtcd:
    """What one running controller said about its etcd."""

    service: str | None  # the etcd service's STATE; None: the node did not answer
    members: int | None = None  # members listed through it; None: not asked, or the list failed


def etcd_verdict(controllers: Mapping[str, ControllerEtcd], recorded: bool, requested: bool) -> Verdict:
    """`recorded`: the runner recorded a finished bootstrap (or the hand-off); `requested`: it recorded that it
    was about to call bootstrap, and that is recent enough for etcd to still be starting."""
    if recorded or any(c.members for c in controllers.values()):
        return "bootstrapped"
    if any(c.service == RUNNING for c in controllers.values()) or requested:
        return "starting"
    if any(c.service is None for c in controllers.values()):
        return "unknown"
    return "absent"


def counts_as_bootstrapped(verdict: Verdict) -> bool:
    """A starting etcd is waited out (the plan's health wait), never bootstrapped a second time."""
    return verdict in ("bootstrapped", "starting")
