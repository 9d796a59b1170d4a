"""`plan(desired, observed) -> Plan`: pure, deterministic, every step with its reason."""

from __future__ import annotations

from runner.core.derive import Desired
from runner.core.planner.builder import PlanBuilder
from runner.core.planner.infra import plan_node_vm, plan_removals
from runner.core.planner.kube import plan_kubernetes
from runner.core.planner.talos import plan_talos
from runner.core.state import Observed
from runner.core.steps import Plan


def plan(desired: Desired, observed: Observed) -> Plan:
    b = PlanBuilder(desired.cluster)
    for dn in desired.nodes:
        plan_node_vm(b, desired, dn, observed)
    healthy = plan_talos(b, desired, observed)
    plan_kubernetes(b, desired, observed, healthy)
    # Removals come last: the remaining nodes are healthy (and any new controller joined) first.
    plan_removals(b, desired, observed, healthy)
    return b.build()


__all__ = ["plan"]
