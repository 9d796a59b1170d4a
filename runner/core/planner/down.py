"""Nodes that ran before and answer no more: awaited and reported, never configured again; quorum kept.

A node whose VM runs but whose Talos API is silent, while the runner has read its running config before, has
crashed or hangs (a kernel panic, a stuck boot). A config cannot help it: `apply_config` would wait out the
whole boot timeout and hold every change chained behind it. It gets one `await_node` step instead, which
looks once and reports it by name; the rest of the plan goes on without it. A VM that never answered the
runner (a first boot still going) is not such a node: it still gets its config once it boots.

While controllers are down, no other controller is taken down if that could cost etcd its quorum (with 3
controllers and one down, the other two must stay up): those disruptive changes wait, each said in a note.
"""

from __future__ import annotations

from runner.core.derive import Desired, DesiredNode
from runner.core.planner.builder import PlanBuilder
from runner.core.state import Observed
from runner.core.steps import Kind


def crashed(desired: Desired, observed: Observed) -> list[DesiredNode]:
    """Nodes of the spec whose (runner-managed) VM runs while Talos is silent, and that ran before."""
    out = []
    for node in desired.nodes:
        vm = observed.vms.get(node.vm.vmid)
        state = observed.talos.get(node.name)
        if (
            vm is not None
            and vm.managed
            and f"cluster-{desired.cluster}" in vm.tags
            and vm.status == "running"
            and state is not None
            and state.stage == "unreachable"
            and state.ran_before
        ):
            out.append(node)
    return out


def _names(nodes: list[DesiredNode]) -> str:
    names = [n.name for n in nodes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def plan_down(builder: PlanBuilder, desired: Desired, observed: Observed) -> None:
    """First of all passes: the awaited nodes, and whether other controllers must be held (`builder.held`)."""
    down = crashed(desired, observed)
    for node in down:
        builder.down.add(node.name)
        builder.on_node(node.name).add(
            "await",
            Kind.AWAIT_NODE,
            f"{node.name} ({node.ip}) does not answer although VM {node.vm.vmid} runs, and it ran before: it "
            "crashed or hangs, so it is not configured again; every run looks once more (its console says why "
            "it stopped)",
            ip=node.ip,
            vmid=node.vm.vmid,
        )
    down_controllers = [n for n in down if n.is_controller]
    total = len(desired.controllers)
    answering, quorum = total - len(down_controllers), total // 2 + 1
    if down_controllers and answering - 1 < quorum:
        verb = "does" if len(down_controllers) == 1 else "do"
        builder.held = (
            f"waits while {_names(down_controllers)} {verb} not answer: taking it down too would leave "
            f"{answering - 1} of {total} controllers, and etcd needs {quorum}"
        )


def held(builder: PlanBuilder, node: DesiredNode, change: str) -> bool:
    """Whether `change` (one that may take `node` down) must wait for quorum's sake; if so, a note says so."""
    if builder.held is None or not node.is_controller or node.name in builder.down:
        return False
    builder.notes.append(f"{node.name} {builder.held} ({change})")
    return True
