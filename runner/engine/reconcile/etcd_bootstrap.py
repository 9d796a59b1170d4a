"""Asking Talos whether etcd was bootstrapped: the member list through the first controller, then (when that
lists nobody) the etcd service on every running controller, and the runner's own record of a bootstrap it
asked for. The verdict itself is `runner.core.etcd_state.etcd_verdict`."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from runner.core.derive import Desired
from runner.core.errors import Transient
from runner.core.etcd_state import ControllerEtcd, Verdict, etcd_verdict
from runner.engine.reconcile.clusterstate import ClusterFacts
from runner.engine.reconcile.targets import Connections


def requested_recently(facts: ClusterFacts, patience: float) -> bool:
    """A bootstrap the runner recorded asking for less than `patience` seconds ago: etcd may still be starting.
    Older, with no etcd running anywhere, the call never reached the node (the runner died before it)."""
    if not facts.bootstrap_requested_at:
        return False
    asked = datetime.datetime.fromisoformat(facts.bootstrap_requested_at)
    return (datetime.datetime.now(datetime.UTC) - asked).total_seconds() < patience


def bootstrap_verdict(desired: Desired, conns: Connections, facts: ClusterFacts, running: Sequence[str]) -> Verdict:
    """`running`: the controllers whose Talos runs (the first one among them). Only a Transient member-list
    failure reads as "no members"; a Permanent one (our credentials refused) stops the run with its message."""
    first = desired.bootstrap_node.ip
    try:
        members = conns.talos.etcd_members(first)
    except Transient:
        members = []
    if members:
        return "bootstrapped"
    services = conns.talos.etcd_services(list(running))
    seen = {ip: ControllerEtcd(services[ip].state if ip in services else None) for ip in running}
    requested = requested_recently(facts, conns.settings.boot_timeout)
    return etcd_verdict(seen, recorded=False, requested=requested)
