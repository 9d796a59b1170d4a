"""Drains: before a step takes a Kubernetes node down, move its pods off; after it, let pods back.

Taking a node down means a VM reboot for a resize, a Talos upgrade (it reboots into the new image), a
machine-config change Talos applies only with a reboot, a
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
from runner.core.talos.k8s_upgrade import KUBELET

REMOVAL = (Kind.ETCD_LEAVE, Kind.DELETE_K8S_NODE, Kind.STOP_VM, Kind.DELETE_VM)


def takes_node_down(step: Step) -> bool:
    if step.kind in (Kind.REBOOT_VM, Kind.UPGRADE_TALOS):
        return True
    if step.kind is Kind.UPDATE_VM:
        return bool(step.params.get("needs_reboot"))
    if step.kind is Kind.APPLY_CONFIG:  # a change Talos applies only with a reboot, or a new minor's config
        return bool(step.params.get("reboots"))
    # upgrade-k8s restarts the node's kubelet on the new version (the control-plane components are static pods)
    return step.kind is Kind.UPGRADE_KUBERNETES and step.params.get("component") == KUBELET


def _segments(builder: PlanBuilder) -> list[tuple[str, list[str]]]:
    """Runs of consecutive down steps of one node, in the order they would run.

    A node whose down steps are apart (a Talos upgrade now, its kubelet after every other node's upgrade)
    is drained once per run: it is never left cordoned while the other nodes take their turn.
    """
    segments: list[tuple[str, list[str]]] = []
    for step in topological(list(builder.steps.values())):
        node = step.params.get("node_name")
        if node is None or not (step.kind in REMOVAL or takes_node_down(step)):
            continue
        if segments and segments[-1][0] == node:
            segments[-1][1].append(step.id)
        else:
            segments.append((str(node), [step.id]))
    return segments


def plan_drains(builder: PlanBuilder, observed: Observed) -> None:
    if not observed.cluster.kube_api_ready:
        return  # no Kubernetes yet (or not reachable): nothing runs on the nodes that could be moved
    removed = {str(s.params["node_name"]) for s in builder.steps.values() if s.kind in REMOVAL}
    segments = _segments(builder)
    seen: dict[str, int] = {}
    ends: dict[str, str] = {}  # a segment's last step -> the step after which its node is done with
    previous_end: str | None = None
    for node, ids in segments:
        seen[node] = seen.get(node, 0) + 1
        suffix = "" if seen[node] == 1 else f"-{seen[node]}"
        first = builder.steps[ids[0]]
        why = "removal" if first.kind in REMOVAL else first.reason
        # Never two nodes cordoned at once: this drain also waits until the node before is back (or gone).
        after = (*(ends.get(d, d) for d in first.depends_on), previous_end)
        node_steps = builder.on_node(node)
        drain = node_steps.add(
            f"drain{suffix}",
            Kind.DRAIN_NODE,
            f"cordon {node} and evict its pods (PodDisruptionBudgets honoured) before: {why}",
            *after,
            disruptive=True,
        )
        builder.steps[first.id] = replace(first, depends_on=(drain,))
        previous_end = ids[-1]
        if not (node in removed and first.kind in REMOVAL):
            previous_end = node_steps.add(
                f"uncordon{suffix}", Kind.UNCORDON_NODE, f"uncordon {node} once it is Ready again", ids[-1]
            )
        ends[ids[-1]] = previous_end
    for node in sorted(observed.cluster.cordoned - {n for n, _ in segments}):
        builder.on_node(node).add(
            "uncordon", Kind.UNCORDON_NODE, f"uncordon {node}: an earlier run cordoned it and did not finish"
        )
