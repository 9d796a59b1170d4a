"""`plan(desired, observed) -> Plan`: pure, deterministic, every step with its reason."""

from __future__ import annotations

from runner.core.derive import Desired
from runner.core.planner.builder import PlanBuilder
from runner.core.planner.down import plan_down
from runner.core.planner.drain import plan_drains
from runner.core.planner.infra import plan_node_vm, plan_removals
from runner.core.planner.kube import plan_kubernetes
from runner.core.planner.snapshot import plan_etcd_snapshot
from runner.core.planner.talos import plan_talos
from runner.core.state import Observed
from runner.core.steps import Plan


def plan(desired: Desired, observed: Observed) -> Plan:
    builder = PlanBuilder(desired.cluster)
    # First: nodes that crashed are only awaited, and may hold other controllers' disruptive changes.
    plan_down(builder, desired, observed)
    for node in desired.nodes:
        plan_node_vm(builder, desired, node, observed)
    if _every_node_blocked(builder, desired):
        return builder.build()
    healthy = plan_talos(builder, desired, observed)
    plan_kubernetes(builder, desired, observed, healthy)
    # Removals come last: the remaining nodes are healthy (and any new controller joined) first.
    plan_removals(builder, desired, observed, healthy)
    # The snapshot before the first disruptive control-plane step, then (last) the drains: snapshot, drain, step.
    plan_etcd_snapshot(builder, desired, observed)
    # Last: every step that takes a node down gets its drain before and its uncordon after.
    plan_drains(builder, observed)
    return builder.build()


def _every_node_blocked(builder: PlanBuilder, desired: Desired) -> bool:
    """No node may be touched (foreign VMs on every VMID, say): the cluster-wide steps (health, Flux, the
    endpoint) would act on a cluster the runner never reached, so the plan is its conflicts alone."""
    return all(node.name in builder.blocked for node in desired.nodes)


__all__ = ["plan"]
