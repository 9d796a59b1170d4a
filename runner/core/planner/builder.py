"""Accumulates steps, conflicts and notes while the phase planners run; orders the result."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from runner.core.steps import Kind, Plan, Step


@dataclass
class PlanBuilder:
    cluster: str
    steps: dict[str, Step] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # per node name: the step after which the node's VM is up (None when it already was)
    vm_ready: dict[str, str | None] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)  # nodes the plan must not touch (conflicts)
    powered_off: set[str] = field(default_factory=set)  # nodes whose VM stays off in this plan (drift reported)
    down: set[str] = field(default_factory=set)  # nodes that ran before and answer no more: only awaited
    held: str | None = None  # why no other controller may be taken down now (a controller is down), if so

    def add(
        self,
        step_id: str,
        kind: Kind,
        target: str,
        reason: str,
        depends_on: tuple[str | None, ...] = (),
        disruptive: bool = False,
        **params: Any,
    ) -> str:
        if step_id not in self.steps:
            deps = tuple(dict.fromkeys(d for d in depends_on if d))
            self.steps[step_id] = Step(step_id, kind, target, reason, deps, disruptive, params)
        return step_id

    def on_vm(self, vmid: int, node_name: str) -> TargetSteps:
        """Steps on one VM; the executor acts on its VMID, drains and the etcd snapshot look for its node."""
        return TargetSteps(self, f"vm/{vmid}", {"vmid": vmid, "node_name": node_name})

    def on_node(self, node_name: str) -> TargetSteps:
        """Steps on one Talos / Kubernetes node, named in their params for the drains and the etcd snapshot."""
        return TargetSteps(self, f"node/{node_name}", {"node_name": node_name})

    def build(self) -> Plan:
        return Plan(self.cluster, topological(list(self.steps.values())), tuple(self.conflicts), tuple(self.notes))


@dataclass(slots=True)
class TargetSteps:
    """Adds steps on one target: ids `<target>/<action>`, params led by the ones that name the target."""

    builder: PlanBuilder
    target: str
    names: dict[str, Any]

    def add(
        self, action: str, kind: Kind, reason: str, *after: str | None, disruptive: bool = False, **params: Any
    ) -> str:
        """Step `<target>/<action>`, after the steps named (None: nothing to wait for)."""
        target = self.target
        return self.builder.add(f"{target}/{action}", kind, target, reason, after, disruptive, **self.names, **params)


def roll(builder: PlanBuilder, chains: list[list[str]], previous: str | None = None) -> str | None:
    """Each rolling step waits for its node to be healthy again before it finishes; chaining every node's
    first step after the previous node's last one means two nodes are never changed (or down) at once."""
    for steps in chains:
        if not steps:
            continue
        if previous is not None:
            first = builder.steps[steps[0]]
            builder.steps[first.id] = replace(first, depends_on=(*first.depends_on, previous))
        previous = steps[-1]
    return previous


def topological(steps: list[Step]) -> tuple[Step, ...]:
    """Stable topological order: insertion order wherever dependencies allow."""
    by_id = {s.id: s for s in steps}
    done: set[str] = set()
    out: list[Step] = []
    visiting: set[str] = set()

    def visit(step: Step) -> None:
        if step.id in done:
            return
        if step.id in visiting:
            raise ValueError(f"dependency cycle through {step.id}")
        visiting.add(step.id)
        for dep in step.depends_on:
            if dep in by_id:
                visit(by_id[dep])
        visiting.discard(step.id)
        done.add(step.id)
        out.append(step)

    for step in steps:
        visit(step)
    # Drop dependencies on steps that are not in this plan (already satisfied).
    return tuple(
        Step(s.id, s.kind, s.target, s.reason, tuple(d for d in s.depends_on if d in by_id), s.disruptive, s.params)
        for s in out
    )
