"""Drains: before a step takes a Kubernetes node down, move its pods off; after it, let pods back.

Taking a node down means a VM reboot for a resize, a Talos upgrade (it reboots into the new image), a
Kubernetes upgrade of that node (kubelet and static pods restart) and a removal. Each such node gets
`drain` before its first such step and `uncordon` after its last (a removed node is never uncordoned). Nodes
roll one at a time, so the next node's drain waits for the previous node's uncordon: two nodes are never
cordoned at once, and evicted pods always have somewhere to go back to.
"""

from __future__ import annotations

from dataclasses import replace

from runner.core.planner.builder import PlanBuilder, topological
from runner.core.state import Observed
from runner.core.steps import Kind, Step

REMOVAL = (Kind.ETCD_LEAVE, Kind.DELETE_K8S_NODE, Kind.STOP_VM, Kind.DELETE_VM)


def takes_node_down(step: Step) -> bool:
    if step.kind in (Kind.REBOOT_VM, Kind.UPGRADE_TALOS):
        return True
    if step.kind is Kind.UPDATE_VM:
        return bool(step.params.get("needs_reboot"))
    return step.kind is Kind.APPLY_CONFIG and bool(step.params.get("kubernetes_upgrade"))


def plan_drains(builder: PlanBuilder, observed: Observed) -> None:
    if not observed.cluster.kube_api_ready:
        return  # no Kubernetes yet (or not reachable): nothing runs on the nodes that could be moved
    down: dict[str, list[str]] = {}  # node -> its steps that take it down, in plan order
    removed: set[str] = set()
    for step in list(builder.steps.values()):
        node = step.params.get("node_name")
        if node is None:
            continue
        if step.kind in REMOVAL:
            removed.add(str(node))
        if step.kind in REMOVAL or takes_node_down(step):
            down.setdefault(str(node), []).append(step.id)
    # Nodes in the order their first down step would run, so chaining them one after another adds no cycle.
    position = {step.id: i for i, step in enumerate(topological(list(builder.steps.values())))}
    ends: dict[str, str] = {}  # a node's last down step -> the step after which the node is done with
    previous_end: str | None = None
    for node, ids in sorted(down.items(), key=lambda item: position[item[1][0]]):
        first = builder.steps[ids[0]]
        why = "removal" if node in removed else first.reason
        # Never two nodes cordoned at once: this drain also waits until the node before is back (or gone).
        after = (*(ends.get(d, d) for d in first.depends_on), previous_end)
        drain = builder.add(
            f"node/{node}/drain",
            Kind.DRAIN_NODE,
            f"node/{node}",
            f"cordon {node} and evict its pods (PodDisruptionBudgets honoured) before: {why}",
            after,
            disruptive=True,
            node_name=node,
        )
        builder.steps[first.id] = replace(first, depends_on=(drain,))
        previous_end = ids[-1]
        if node not in removed:
            previous_end = builder.add(
                f"node/{node}/uncordon",
                Kind.UNCORDON_NODE,
                f"node/{node}",
                f"uncordon {node} once it is Ready again",
                (ids[-1],),
                node_name=node,
            )
        ends[ids[-1]] = previous_end
    for node in sorted(observed.cluster.cordoned - down.keys()):
        builder.add(
            f"node/{node}/uncordon",
            Kind.UNCORDON_NODE,
            f"node/{node}",
            f"uncordon {node}: an earlier run cordoned it and did not finish",
            node_name=node,
        )
