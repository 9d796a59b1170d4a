"""What keeps a cluster the runner did not build (or just adopted) safe, whatever else the plan sees.

- A recorded bootstrap (what `runner adopt --apply` or a past run wrote) means no bootstrap step.
- A VM without the runner's ownership tag (a foreign VMID) is never the target of a step, nor is the node
  the spec wanted on its VMID; with every node's VMID foreign the plan holds only conflicts.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.core.planner import plan
from runner.core.state import Observed, ObservedVm
from runner.core.steps import Kind, Plan
from runner.engine.reconcile.clusterstate import ClusterFacts
from runner.engine.reconcile.observe import _recorded
from tests.planner.scenario import converged, desired_for, edit_observed
from tests.planner.test_plan_properties import observed_edits, spec_edits

BASE = desired_for(None)
CONVERGED = converged(BASE)
SPEC_VMIDS = {n.vm.vmid: n.name for n in BASE.nodes}

facts = st.builds(
    ClusterFacts,
    handoff_at=st.one_of(st.none(), st.just("2026-01-01T00:00:00+00:00")),
    endpoint=st.one_of(st.none(), st.sampled_from([BASE.initial_endpoint, BASE.vip_endpoint])),
    bootstrapped_at=st.just("2026-01-01T00:00:00+00:00"),
)
# A foreign VM: no managed-by-runner tag; maybe the cluster's other tags (tagged by hand), maybe none.
foreign_tags = st.sampled_from([frozenset(), frozenset({"cluster-home"}), frozenset({"cluster-home", "role-worker"})])
foreign_vms = st.dictionaries(st.integers(300, 310), foreign_tags, max_size=7)


def _with_foreign(observed: Observed, foreign: dict[int, frozenset[str]]) -> Observed:
    vms = dict(observed.vms)
    for vmid, tags in foreign.items():
        name = SPEC_VMIDS.get(vmid, f"someone-{vmid}")
        vms[vmid] = ObservedVm(vmid, name, "atlas", "running", tags)
    return dataclasses.replace(observed, vms=vms)


def _targets(plan_: Plan) -> list[tuple[str, Any, Any]]:
    return [(s.target, s.params.get("vmid"), s.params.get("node_name")) for s in plan_.steps]


COMMON = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(spec_edits, observed_edits, st.booleans(), facts, foreign_vms)
def test_a_recorded_bootstrap_means_no_bootstrap_step(
    edits: dict[str, Any], changes: list[dict[str, Any]], empty: bool, recorded: ClusterFacts, foreign: Any
) -> None:
    desired = desired_for(edits)
    base = Observed() if empty else edit_observed(CONVERGED, changes)
    observed = dataclasses.replace(_with_foreign(base, foreign), cluster=_recorded(recorded))
    assert [s.id for s in plan(desired, observed).steps if s.kind is Kind.BOOTSTRAP] == []


@COMMON
@given(spec_edits, observed_edits, st.booleans(), foreign_vms)
def test_a_foreign_vmid_is_never_a_steps_target(
    edits: dict[str, Any], changes: list[dict[str, Any]], empty: bool, foreign: dict[int, frozenset[str]]
) -> None:
    desired = desired_for(edits)
    base = Observed() if empty else edit_observed(CONVERGED, changes)
    result = plan(desired, _with_foreign(base, foreign))
    untouchable = {SPEC_VMIDS[v] for v in foreign if v in SPEC_VMIDS and v in {n.vm.vmid for n in desired.nodes}}
    for target, vmid, node_name in _targets(result):
        assert vmid not in foreign, (target, vmid)
        assert target not in {f"vm/{v}" for v in foreign}
        assert node_name not in untouchable and target not in {f"node/{n}" for n in untouchable}, target
    if untouchable == {n.name for n in desired.nodes}:
        assert result.steps == ()


@given(facts)
def test_every_node_foreign_plans_only_conflicts(recorded: ClusterFacts) -> None:
    observed = dataclasses.replace(_with_foreign(Observed(), dict.fromkeys(SPEC_VMIDS, frozenset())))
    result = plan(BASE, dataclasses.replace(observed, cluster=_recorded(recorded)))
    assert result.steps == ()
    assert len(result.conflicts) == len(BASE.nodes)


@COMMON
@given(spec_edits, observed_edits, st.booleans())
def test_an_adopted_cluster_takes_no_reboot_the_spec_did_not_opt_into(
    edits: dict[str, Any], changes: list[dict[str, Any]], rollout: bool
) -> None:
    desired = desired_for({**edits, "adoption": {"rollout": rollout}})
    base = edit_observed(CONVERGED, changes)
    observed = dataclasses.replace(base, cluster=dataclasses.replace(base.cluster, adopted=True))
    steps = plan(desired, observed).steps
    running = {name for name, t in observed.talos.items() if t.stage == "running"}
    on_running = [s for s in steps if s.kind is Kind.APPLY_CONFIG and s.params["node_name"] in running]
    if rollout:
        assert all(s.params["mode"] == "auto" for s in on_running)
        return
    assert [s.id for s in steps if s.kind is Kind.UPGRADE_TALOS] == []
    assert all(s.params["mode"] == "no-reboot" and not s.disruptive for s in on_running)
