"""The etcd snapshot pass: one snapshot ahead of the first disruptive control-plane step of a plan.

Runs after every other pass, on the finished step set. "Control-plane step" means a disruptive step on a
controller of the spec, or a controller leaving etcd. The snapshot step takes over the dependencies of that
first step and the step then depends on it, so a failed snapshot stops the step (and, through the rolling
chain, every later disruptive step) before anything was disrupted.
"""

from __future__ import annotations

from runner.core.derive import Desired
from runner.core.planner.builder import PlanBuilder
from runner.core.state import Observed
from runner.core.steps import Kind, Step

SNAPSHOT_ID = "etcd_snapshot"


def _controller_step(step: Step, controllers: set[str]) -> bool:
    return step.disruptive and (step.kind is Kind.ETCD_LEAVE or step.params.get("node_name") in controllers)


def plan_etcd_snapshot(builder: PlanBuilder, desired: Desired, observed: Observed) -> None:
    # An upgrade across Talos minors (steps with a `stage`) snapshots even without backups configured: the
    # etcd it leaves is the one way back if a new minor's etcd will not start.
    across = any(s.kind is Kind.UPGRADE_TALOS and "stage" in s.params for s in builder.steps.values())
    if not (desired.etcd_snapshots or across) or not observed.cluster.bootstrapped:
        return  # no backups configured, or no etcd yet
    controllers = {c.name for c in desired.controllers}
    ordered = builder.build().steps  # dependency order: the first match is the first to run
    first = next((s for s in ordered if _controller_step(s, controllers)), None)
    if first is None:
        return
    builder.add(
        SNAPSHOT_ID,
        Kind.ETCD_SNAPSHOT,
        "cluster",
        f"snapshot etcd before the first disruptive control-plane step ({first.id})",
        first.depends_on,
        before=first.id,
        # take it from a controller that step leaves alone, and that answers
        exclude=[str(first.params.get("node_name", "")), *sorted(builder.down)],
    )
    step = builder.steps[first.id]
    builder.steps[first.id] = Step(
        step.id, step.kind, step.target, step.reason, (*step.depends_on, SNAPSHOT_ID), step.disruptive, step.params
    )
