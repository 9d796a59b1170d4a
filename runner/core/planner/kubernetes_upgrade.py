"""Kubernetes version changes, planned as `talosctl upgrade-k8s` performs them.

Order (siderolabs/talos pkg/cluster/kubernetes/talos_managed.go@v1.11.2, `Upgrade`): kube-apiserver on every
controller, then kube-controller-manager on every controller, then kube-scheduler, then kube-proxy's image on
every controller, then the kubelet on every node (controllers first), then the bootstrap manifests (CoreDNS,
kube-proxy, RBAC) re-applied, from Talos 1.13 with an inventory that prunes (core/talos/manifest_inventory.py).
The manifests are also synced after a Talos upgrade: a new Talos release renders new ones (its default CoreDNS),
and Talos itself only ever creates missing manifests.
"""

from __future__ import annotations

from typing import Any

from runner.core.configdiff import config_diff
from runner.core.derive import Desired, DesiredNode
from runner.core.planner.builder import PlanBuilder
from runner.core.state import Observed, ObservedTalosNode
from runner.core.steps import Kind
from runner.core.talos.k8s_upgrade import CONTROL_PLANE, KUBELET, PROXY, without_images
from runner.core.talos.manifest_inventory import uses_inventory
from runner.core.versions import minor_of


def _running(observed: Observed, node: DesiredNode) -> ObservedTalosNode | None:
    state = observed.talos.get(node.name)
    return state if state is not None and state.stage == "running" else None


def upgrading(desired: Desired, observed: Observed, builder: PlanBuilder) -> bool:
    """Whether some running node's Kubernetes differs from the spec (and nothing blocks the cluster)."""
    if builder.conflicts:
        return False
    return any(
        (state := _running(observed, n)) is not None
        and state.kubernetes_version not in (None, n.kubernetes_version)
        and n.name not in builder.blocked
        for n in desired.nodes
    )


def images_only(node: DesiredNode, state: ObservedTalosNode) -> bool:
    """Whether the node's config differs from the spec in component images alone (upgrade-k8s covers that)."""
    if state.config_redacted is None or node.config_redacted is None:
        return False  # unknown: the full config is applied after the upgrade (a no-op if it already matches)
    return not config_diff(without_images(state.config_redacted), without_images(node.config_redacted))


def plan_kubernetes_stage(
    builder: PlanBuilder,
    desired: Desired,
    observed: Observed,
    after: str | None,
    version: str,
    was: str,
    prefix: str = "kubernetes",
    stage: str | None = None,
) -> str | None:
    """Every component on every running node to `version`, chained after `after` in upgrade-k8s order; returns
    the last step. `prefix` names the steps (an intermediate stop has its own); a node that already runs
    `version`'s minor or newer is left alone (a run that stopped half-way)."""
    final = version == desired.nodes[0].kubernetes_version
    running = [n for n in desired.nodes if _running(observed, n) is not None and n.name not in builder.blocked]
    controllers = [n for n in running if n.is_controller]
    previous = after
    extra: dict[str, Any] = {"stage": stage} if stage else {}
    for component in (*CONTROL_PLANE, PROXY, KUBELET):
        for node in (
            controllers if component != KUBELET else [*controllers, *(n for n in running if not n.is_controller)]
        ):
            state = _running(observed, node)
            if not final and state is not None and minor_of(state.kubernetes_version or "v0.0.0") >= minor_of(version):
                continue
            done = final and component == KUBELET and state is not None and images_only(node, state)
            previous = builder.add(
                f"{prefix}/{component}/{node.name}",
                Kind.UPGRADE_KUBERNETES,
                f"node/{node.name}",
                f"Kubernetes {was}→{version}: {component} on {node.name} (upgrade-k8s order, mode no-reboot)",
                (previous,),
                node_name=node.name,
                ip=node.ip,
                component=component,
                version=version,
                # the kubelet is the node's last image: after it, its config is the spec's
                config_hash=node.config_hash if done else None,
                **extra,
            )
    return previous


def _sync_text(talos_versions: list[str]) -> str:
    """What the sync does with the Talos the nodes run by then (upgrade-k8s follows the oldest)."""
    what = "the bootstrap manifests Talos renders now (CoreDNS, kube-proxy, RBAC)"
    if uses_inventory(talos_versions):
        return f"server-side apply {what} with Talos's inventory, deleting what it lists and they no longer hold"
    return f"server-side apply {what}"


def plan_manifests_sync(
    builder: PlanBuilder, desired: Desired, observed: Observed, after: str | None, why: str
) -> str | None:
    controllers = [
        n for n in desired.controllers if _running(observed, n) is not None and n.name not in builder.blocked
    ]
    if not controllers:
        return after
    return builder.add(
        "kubernetes/manifests",
        Kind.SYNC_MANIFESTS,
        "cluster",
        f"{why}: {_sync_text([n.talos_version for n in desired.nodes])}",
        (after,),
        ip=controllers[0].ip,
    )


def plan_kubernetes_upgrade(
    builder: PlanBuilder, desired: Desired, observed: Observed, after: str | None, upgrade: bool, talos_moved: bool
) -> str | None:
    """Chain the upgrade after `after`; returns the last step (None when nothing is planned)."""
    if not (upgrade or talos_moved):
        return None
    previous = after
    if upgrade:
        running = [n for n in desired.nodes if _running(observed, n) is not None and n.name not in builder.blocked]
        current = sorted(
            {s.kubernetes_version for n in running if (s := _running(observed, n)) and s.kubernetes_version}
        )
        version = desired.nodes[0].kubernetes_version
        previous = plan_kubernetes_stage(builder, desired, observed, after, version, current[0] if current else "?")
    return plan_manifests_sync(
        builder, desired, observed, previous, "Kubernetes upgraded" if upgrade else "Talos upgraded"
    )
