"""Invariants for nodes that crashed (VM running, Talos silent, ran before), over random specs and crashes."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.core.planner import plan
from runner.core.steps import Kind
from tests.planner.scenario import converged, desired_for, edit_observed
from tests.planner.test_plan_properties import spec_edits

NAMES = ["talos-cp-01", "talos-cp-02", "talos-cp-03", "talos-worker-01", "talos-worker-02"]
FIVE_CONTROLLERS = {"nodes.3.role": "controlplane", "nodes.4.role": "controlplane"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=spec_edits,
    five=st.booleans(),
    crashed=st.sets(st.sampled_from(NAMES), min_size=1, max_size=3),
    switched=st.booleans(),
    bootstrapped=st.booleans(),
)
def test_a_crashed_node_is_only_awaited_and_quorum_is_never_bet_on_it(
    edits: dict[str, Any], five: bool, crashed: set[str], switched: bool, bootstrapped: bool
) -> None:
    base = FIVE_CONTROLLERS if five else {}
    desired = desired_for({**edits, **base})
    observed = edit_observed(
        converged(desired_for(base or None)),
        [{"talos": name, "stage": "unreachable", "ran_before": True} for name in sorted(crashed)],
    )
    # Before the hand-off's endpoint switch every node is due a move to the VIP; before a recorded bootstrap
    # (a run killed after configuring the first controller) a bootstrap is due.
    cluster = dataclasses.replace(
        observed.cluster,
        endpoint=observed.cluster.endpoint if switched else None,
        bootstrapped=observed.cluster.bootstrapped and bootstrapped,
    )
    observed = dataclasses.replace(observed, cluster=cluster)
    p = plan(desired, observed)
    in_spec = {n.name for n in desired.nodes}
    down = crashed & in_spec
    awaited = [s for s in p.steps if s.kind is Kind.AWAIT_NODE]
    assert sorted(str(s.params["node_name"]) for s in awaited) == sorted(down)
    # Nothing else is done to a crashed node (no config, no bootstrap, no endpoint move), nothing waits for one.
    assert not [s.id for s in p.steps if s.kind is not Kind.AWAIT_NODE and s.params.get("node_name") in down]
    assert not [s.id for s in p.steps if set(s.depends_on) & {a.id for a in awaited}]
    # No other controller is taken down unless quorum outlasts it (counted over the spec's controllers), and
    # no member leaves etcd unless the members that answer afterwards still make a quorum of today's etcd.
    controllers = [n.name for n in desired.controllers]
    down_controllers = down & set(controllers)
    if len(controllers) - len(down_controllers) - 1 < len(controllers) // 2 + 1:
        risky = [
            s.id
            for s in p.steps
            if s.disruptive and s.kind is not Kind.ETCD_LEAVE and s.params.get("node_name") in controllers
        ]
        assert risky == [], risky
    members = len(desired_for(base or None).controllers)
    leaving = [s.id for s in p.steps if s.kind is Kind.ETCD_LEAVE]
    if leaving:
        assert members - len(leaving) - len(down_controllers) >= members // 2 + 1, leaving
