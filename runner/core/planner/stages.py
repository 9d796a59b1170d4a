"""Upgrades across minors, in one plan: the stages of the version path (runner/core/version_path.py), each
one whole-cluster move, rolled one node at a time.

A Talos stage upgrades every node in turn (controllers first, one at a time, so etcd keeps quorum; then the
workers) with that minor's installer; the drains pass wraps each upgrade in cordon/evict/uncordon, and the
etcd snapshot pass puts a snapshot before the first controller. A Kubernetes stage is upgrade-k8s for that
version. The nodes keep the config they run through the intermediate minors (each Talos reads the documents
of the minor before it); the spec's config, written for the target minor, is applied last, once the node runs
that minor. Each step carries `stage` ("3/5 Talos v1.13.9"), which the plan's markdown lists in order.
"""

from __future__ import annotations

from dataclasses import replace

from runner.core.derive import Desired, DesiredNode
from runner.core.planner.builder import PlanBuilder, roll
from runner.core.planner.down import held
from runner.core.planner.kubernetes_upgrade import plan_kubernetes_stage, plan_manifests_sync
from runner.core.state import Observed, ObservedTalosNode
from runner.core.steps import Kind
from runner.core.version_path import Stage
from runner.core.versions import minor_of


def _running(observed: Observed, node: DesiredNode) -> ObservedTalosNode | None:
    state = observed.talos.get(node.name)
    return state if state is not None and state.stage == "running" else None


def installer_for(node: DesiredNode, version: str) -> str:
    """The node's installer (same schematic) at another Talos version: the image tag is the version."""
    return f"{node.installer_image.rsplit(':', 1)[0]}:{version}"


def _talos_stage(
    builder: PlanBuilder,
    nodes: list[DesiredNode],
    observed: Observed,
    stage: Stage,
    label: str,
    final_upgrades: dict[str, str],
    previous: str | None,
) -> str | None:
    for node in nodes:  # controllers first: the caller orders them
        if stage.final:
            step = final_upgrades.get(node.name)
            if step is None:
                continue  # already there (or held)
            found = builder.steps[step]
            builder.steps[step] = replace(found, params={**found.params, "stage": label})
        else:
            state = _running(observed, node)
            image = installer_for(node, stage.version)
            if state is None or minor_of(state.talos_version or "v0.0.0") >= minor_of(stage.version):
                continue
            if held(builder, node, f"upgrade to Talos {stage.version}"):
                continue  # a controller is down: no other controller goes down now (quorum)
            step = builder.on_node(node.name).add(
                f"upgrade-{stage.version}",
                Kind.UPGRADE_TALOS,
                f"upgrade {node.name}: Talos {state.talos_version}→{stage.version} on the way to "
                f"{node.talos_version} (the latest patch of that minor; node reboots into {image})",
                builder.vm_ready.get(node.name),
                disruptive=True,
                ip=node.ip,
                image=image,
                version=stage.version,
                stage=label,
            )
        if previous is not None and previous not in builder.steps[step].depends_on:
            found = builder.steps[step]
            builder.steps[step] = replace(found, depends_on=(*found.depends_on, previous))
        previous = step
    return previous


def plan_stages(
    builder: PlanBuilder,
    desired: Desired,
    observed: Observed,
    stages: list[Stage],
    chains: list[list[str]],
    k8s_from: str,
) -> tuple[str | None, list[list[str]]]:
    """Plans every stage after the chains' own pre-upgrade steps; returns the last step and what is left of the
    chains (the config applies), to be rolled after it."""
    nodes = sorted(
        (n for n in desired.nodes if _running(observed, n) is not None and n.name not in builder.blocked),
        key=lambda n: not n.is_controller,
    )
    final_upgrades = {
        str(builder.steps[s].params["node_name"]): s
        for steps in chains
        for s in steps
        if builder.steps[s].kind is Kind.UPGRADE_TALOS
    }
    wave = [
        [s for s in steps if builder.steps[s].kind not in (Kind.UPGRADE_TALOS, Kind.APPLY_CONFIG)] for steps in chains
    ]
    configs = [[s for s in steps if builder.steps[s].kind is Kind.APPLY_CONFIG] for steps in chains]
    previous = roll(builder, wave)
    was = k8s_from
    for number, stage in enumerate(stages, 1):
        label = f"{number}/{len(stages)} {stage.label}"
        if stage.component == "talos":
            previous = _talos_stage(builder, nodes, observed, stage, label, final_upgrades, previous)
        else:
            prefix = "kubernetes" if stage.final else f"kubernetes/{stage.version}"
            previous = plan_kubernetes_stage(builder, desired, observed, previous, stage.version, was, prefix, label)
            was = stage.version
    previous = plan_manifests_sync(builder, desired, observed, previous, "Talos and Kubernetes upgraded")
    # The new minor's config drops fields the old one wrote (machine.features among them), which Talos cannot
    # apply in immediate mode (CanApplyImmediate): mode auto reboots the node. So each is drained like an upgrade.
    for steps in configs:
        for step in steps:
            found = builder.steps[step]
            state = observed.talos.get(str(found.params["node_name"]))
            running = minor_of(state.talos_version or "v0.0.0") if state is not None else None
            if running == minor_of(desired.nodes[0].talos_version):
                continue  # the node stays on its minor: its config applies as any other
            reason = f"{found.reason}; the config of a new Talos minor reboots the node"
            builder.steps[step] = replace(
                found, reason=reason, disruptive=True, params={**found.params, "reboots": True}
            )
    return previous, configs
