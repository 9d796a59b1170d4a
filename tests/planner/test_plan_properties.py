"""Invariants of the planner over random spec edits and random out-of-band changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.core.derive import Desired
from runner.core.planner import plan
from runner.core.planner.drain import takes_node_down
from runner.core.simulate import apply_plan
from runner.core.state import Observed
from runner.core.steps import Kind, Plan, Step
from tests.planner.scenario import ancestors, converged, desired_for, edit_observed

NODES = 5
BASE = desired_for(None)
BASE_OBSERVED = converged(BASE)

spec_edits = st.fixed_dictionaries(
    {},
    optional={
        **{f"nodes.{i}.memory": st.sampled_from([4096, 8192, 12288, 16384]) for i in range(NODES)},
        **{f"nodes.{i}.cores": st.integers(1, 8) for i in range(NODES)},
        **{f"nodes.{i}.diskGb": st.sampled_from([128, 256]) for i in range(NODES)},
        "talos.version": st.sampled_from(["v1.11.2", "v1.11.3", "v1.11.5"]),
        "talos.extensions": st.sampled_from(
            [["siderolabs/qemu-guest-agent"], ["siderolabs/qemu-guest-agent", "siderolabs/tailscale"]]
        ),
        "allowDestroy": st.booleans(),
        "drift": st.sampled_from(["correct", "report"]),
        "nodes.4": st.just("<delete>"),
    },
)

observed_edits = st.lists(
    st.one_of(
        st.builds(
            lambda vm, s: {"vm": vm, "status": s}, st.sampled_from([300, 301, 302, 303, 304]), st.just("stopped")
        ),
        st.builds(
            lambda vm, m: {"vm": vm, "maxmem_mib": m}, st.sampled_from([300, 303]), st.sampled_from([2048, 4096])
        ),
        st.builds(lambda vm: {"vm": vm, "delete": True}, st.sampled_from([301, 304])),
        st.builds(
            lambda n: {"talos": n, "config_hash": "edited-by-hand"}, st.sampled_from(["talos-cp-02", "talos-worker-01"])
        ),
    ),
    max_size=4,
)


def _converge(desired: Desired, observed: Observed) -> tuple[Plan, Observed]:
    first = plan(desired, observed)
    return first, apply_plan(observed, desired, first)


@dataclass(frozen=True)
class Situation:
    """Random spec edits and out-of-band changes (what a falsifying example prints); state() is what they make."""

    edits: dict[str, Any]
    changes: list[dict[str, Any]]

    def state(self) -> tuple[Desired, Observed]:
        return desired_for(self.edits), edit_observed(BASE_OBSERVED, self.changes)


situations = st.builds(Situation, spec_edits, observed_edits)


COMMON = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(situations)
def test_applying_a_plan_then_replanning_changes_nothing_more(situation: Situation) -> None:
    desired, observed = situation.state()
    first, after = _converge(desired, observed)
    second = plan(desired, after)
    assert second.steps == (), [s.id for s in second.steps]
    assert second.conflicts == first.conflicts


@COMMON
@given(situations)
def test_every_step_comes_after_what_it_depends_on(situation: Situation) -> None:
    p = plan(*situation.state())
    position = {s.id: i for i, s in enumerate(p.steps)}
    assert len(position) == len(p.steps), "step ids are unique"
    for s in p.steps:
        for dep in s.depends_on:
            assert position[dep] < position[s.id]


@COMMON
@given(situations)
def test_nothing_is_deleted_without_allow_destroy(situation: Situation) -> None:
    desired, observed = situation.state()
    p = plan(desired, observed)
    if not desired.allow_destroy:
        assert not [s for s in p.steps if s.kind in (Kind.DELETE_VM, Kind.STOP_VM, Kind.ETCD_LEAVE)]


@COMMON
@given(situations)
def test_no_plan_takes_two_controllers_down_at_once(situation: Situation) -> None:
    desired, observed = situation.state()
    p = plan(desired, observed)
    controllers = {n.name for n in desired.controllers}
    disruptive = [s for s in p.steps if s.disruptive and s.params.get("node_name") in controllers]
    # Any two disruptive steps on different controllers are ordered: one is an ancestor of the other.
    for i, a in enumerate(disruptive):
        for b in disruptive[i + 1 :]:
            if a.params["node_name"] != b.params["node_name"]:
                assert a.id in ancestors(p, b.id), f"{b.id} may run while {a.id} is down"


@COMMON
@given(situations)
def test_a_node_is_drained_before_it_goes_down_and_uncordoned_after(situation: Situation) -> None:
    desired, observed = situation.state()
    p = plan(desired, observed)
    of = {s.id: s.params.get("node_name") for s in p.steps}
    for step in p.steps:
        node = step.params.get("node_name")
        if takes_node_down(step) or step.kind in (Kind.ETCD_LEAVE, Kind.DELETE_K8S_NODE, Kind.DELETE_VM):
            before = ancestors(p, step.id)
            assert any(p.step(a).kind is Kind.DRAIN_NODE and of[a] == node for a in before), f"{step.id} undrained"
            if step.kind in (Kind.ETCD_LEAVE, Kind.DELETE_K8S_NODE, Kind.DELETE_VM):
                continue  # a removed node is never uncordoned
            after = [s for s in p.steps if step.id in ancestors(p, s.id)]
            assert any(s.kind is Kind.UNCORDON_NODE and of[s.id] == node for s in after), f"{node} stays cordoned"
    # Never two nodes cordoned at once: every drain waits for every earlier drain's node to be done with.
    drains = [s for s in p.steps if s.kind is Kind.DRAIN_NODE]
    for i, a in enumerate(drains):
        for b in drains[i + 1 :]:
            assert a.id in ancestors(p, b.id), f"{b.id} may run while {a.id} holds its node"


def released(p: Plan, drain: Step) -> str:
    """The step after which `drain`'s node is schedulable again or gone: its uncordon, or its Node's deletion."""
    node = drain.params["node_name"]
    ends = (Kind.UNCORDON_NODE, Kind.DELETE_K8S_NODE)
    of_node = [s for s in p.steps if s.params.get("node_name") == node and s.kind in ends]
    after = [s for s in of_node if drain.id in ancestors(p, s.id)]
    assert after, f"{node} stays cordoned after {drain.id}"
    return after[0].id


@COMMON
@given(situations)
def test_a_drain_waits_until_the_node_drained_before_it_is_released(situation: Situation) -> None:
    """Never two nodes cordoned at once, whatever mix of reboots, upgrades and removals: each drain waits for the
    previous drained node's uncordon (or its removal from Kubernetes), not only for that node's drain."""
    p = plan(*situation.state())
    drains = [s for s in p.steps if s.kind is Kind.DRAIN_NODE]
    for i, a in enumerate(drains):
        for b in drains[i + 1 :]:
            if a.params["node_name"] != b.params["node_name"]:
                assert released(p, a) in ancestors(p, b.id), f"{b.id} may cordon while {a.id}'s node is cordoned"


@COMMON
@given(spec_edits)
def test_plans_are_deterministic(edits: dict[str, Any]) -> None:
    desired = desired_for(edits)
    assert plan(desired, BASE_OBSERVED) == plan(desired, BASE_OBSERVED)
    assert plan(desired, Observed()).to_json() == plan(desired_for(edits), Observed()).to_json()
