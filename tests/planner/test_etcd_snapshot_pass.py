"""The etcd snapshot pass: never without backups or etcd; exactly one, ahead of every disruptive controller step."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.core.planner import plan
from runner.core.state import Observed
from runner.core.steps import Kind
from tests.planner.scenario import converged, desired_for, run_scenario

BACKUPS = {"backups": {"every": "6h", "keep": 3}}
# the cluster runs the patch before the reference cluster's Talos v1.13.9
PREVIOUS_PATCH = {"talos.version": "v1.13.8"}


def test_no_snapshot_before_the_first_bootstrap() -> None:
    steps = plan(desired_for(BACKUPS), Observed()).steps
    assert Kind.ETCD_SNAPSHOT not in {s.kind for s in steps}


def test_no_snapshot_without_a_backups_section() -> None:
    _, _, result = run_scenario({"base_spec": PREVIOUS_PATCH})
    assert Kind.ETCD_SNAPSHOT not in {s.kind for s in result.steps}


def test_snapshot_prefers_a_controller_the_step_does_not_touch() -> None:
    _, _, result = run_scenario({"base_spec": PREVIOUS_PATCH, "spec": BACKUPS})
    snap = next(s for s in result.steps if s.kind is Kind.ETCD_SNAPSHOT)
    assert snap.params == {"before": "node/talos-cp-01/upgrade", "exclude": ["talos-cp-01"]}


def test_snapshot_tries_a_crashed_controller_last() -> None:
    five = {"nodes.3.role": "controlplane", "nodes.4.role": "controlplane"}
    _, _, result = run_scenario(
        {
            "base_spec": five,
            "spec": {**five, "nodes.1.memory": 16384, **BACKUPS},
            "observed_edits": [{"talos": "talos-cp-01", "stage": "unreachable", "ran_before": True}],
        }
    )
    snap = next(s for s in result.steps if s.kind is Kind.ETCD_SNAPSHOT)
    assert snap.params == {"before": "vm/301/update", "exclude": ["talos-cp-02", "talos-cp-01"]}


def test_converged_cluster_with_backups_plans_nothing() -> None:
    desired = desired_for(BACKUPS)
    assert plan(desired, converged(desired)).steps == ()


@settings(max_examples=25, deadline=None)
@given(version=st.sampled_from(["v1.13.9", "v1.13.8"]), memory=st.sampled_from([None, 24576]), node=st.integers(0, 4))
def test_every_disruptive_controller_step_comes_after_a_snapshot(version: str, memory: int | None, node: int) -> None:
    spec: dict[str, object] = {"talos.version": version, **BACKUPS}
    if memory:
        spec[f"nodes.{node}.memory"] = memory
    desired, _, result = run_scenario({"base_spec": PREVIOUS_PATCH, "spec": spec})
    controllers = {c.name for c in desired.controllers}
    by_id = {s.id: s for s in result.steps}

    def ancestors(step_id: str) -> set[str]:
        out: set[str] = set()
        todo = list(by_id[step_id].depends_on)
        while todo:
            dep = todo.pop()
            if dep not in out:
                out.add(dep)
                todo.extend(by_id[dep].depends_on)
        return out

    snaps = [s.id for s in result.steps if s.kind is Kind.ETCD_SNAPSHOT]
    assert len(snaps) <= 1
    for step in result.steps:
        if step.disruptive and step.params.get("node_name") in controllers:
            assert snaps and snaps[0] in ancestors(step.id), f"{step.id} runs without an etcd snapshot first"
