"""Talos phase: configs for new nodes, drift and upgrades one node at a time, bootstrap once, health."""

from __future__ import annotations

from dataclasses import replace

from runner.core.derive import Desired, DesiredNode
from runner.core.planner.builder import PlanBuilder
from runner.core.state import Observed, ObservedTalosNode
from runner.core.steps import Kind


def _talos_state(observed: Observed, dn: DesiredNode) -> ObservedTalosNode:
    return observed.talos.get(dn.name) or ObservedTalosNode(dn.name, dn.ip, "unreachable")


def plan_node_talos(b: PlanBuilder, desired: Desired, dn: DesiredNode, observed: Observed) -> list[str]:
    """Plan one node's Talos steps; returns its disruptive steps (the caller serialises them across nodes)."""
    if dn.name in b.blocked:
        return []
    state = _talos_state(observed, dn)
    target = f"node/{dn.name}"
    vm_ready = b.vm_ready.get(dn.name)
    if state.stage != "running":
        why = "new node" if vm_ready else f"node is {state.stage}"
        b.add(
            f"{target}/config",
            Kind.APPLY_CONFIG,
            target,
            f"{why}: apply {dn.role} config in maintenance mode (Talos {dn.talos_version}, Kubernetes {dn.kubernetes_version})",
            (vm_ready,),
            node_name=dn.name,
            ip=dn.ip,
            insecure=True,
            mode="auto",
            config_hash=dn.config_hash,
        )
        return []
    disruptive: list[str] = []
    if state.talos_version and (
        state.talos_version != dn.talos_version or state.schematic_id not in (None, dn.schematic_id)
    ):
        what = []
        if state.talos_version != dn.talos_version:
            what.append(f"Talos {state.talos_version}→{dn.talos_version}")
        if state.schematic_id not in (None, dn.schematic_id):
            what.append(f"schematic {str(state.schematic_id)[:12]}→{dn.schematic_id[:12]}")
        disruptive.append(
            b.add(
                f"{target}/upgrade",
                Kind.UPGRADE_TALOS,
                target,
                f"upgrade {dn.name}: {', '.join(what)} (node reboots)",
                (vm_ready,),
                disruptive=True,
                node_name=dn.name,
                ip=dn.ip,
                image=dn.installer_image,
                version=dn.talos_version,
            )
        )
    if dn.config_hash is not None and state.config_hash != dn.config_hash:
        if desired.drift == "report" and state.config_hash is not None and vm_ready is None and not disruptive:
            b.notes.append(f"drift on {dn.name}: machine config differs from the spec (reported only)")
        else:
            disruptive.append(
                b.add(
                    f"{target}/config",
                    Kind.APPLY_CONFIG,
                    target,
                    f"machine config of {dn.name} differs from the spec: apply (mode auto)",
                    (vm_ready, *disruptive[-1:]),
                    disruptive=dn.is_controller,
                    node_name=dn.name,
                    ip=dn.ip,
                    insecure=False,
                    mode="auto",
                    config_hash=dn.config_hash,
                )
            )
    if vm_ready and b.steps[vm_ready].disruptive:
        disruptive.insert(0, vm_ready)
    return disruptive


def plan_talos(b: PlanBuilder, desired: Desired, observed: Observed) -> str | None:
    """Plans every node, chains disruptive work one node at a time (controllers first); returns the health step."""
    chains: list[tuple[DesiredNode, list[str]]] = []
    for dn in sorted(desired.nodes, key=lambda n: not n.is_controller):
        chains.append((dn, plan_node_talos(b, desired, dn, observed)))

    # Disruptive steps wait for the node to be healthy again before they finish; chaining each node's first
    # disruptive step after the previous node's last one means two nodes are never down at once.
    previous: str | None = None
    for _dn, steps in chains:
        if not steps:
            continue
        if previous is not None:
            first = b.steps[steps[0]]
            b.steps[first.id] = replace(first, depends_on=(*first.depends_on, previous))
        previous = steps[-1]

    bootstrap = None
    if not observed.cluster.bootstrapped and desired.bootstrap_node.name not in b.blocked:
        first = desired.bootstrap_node
        bootstrap = b.add(
            "cluster/bootstrap",
            Kind.BOOTSTRAP,
            "cluster",
            f"bootstrap etcd once, on the first controller {first.name} ({first.ip})",
            (f"node/{first.name}/config" if f"node/{first.name}/config" in b.steps else b.vm_ready.get(first.name),),
            node_name=first.name,
            ip=first.ip,
        )
    talos_steps = [s.id for s in b.steps.values() if s.kind in (Kind.APPLY_CONFIG, Kind.UPGRADE_TALOS)]
    if talos_steps or bootstrap or not observed.cluster.kube_api_ready:
        return b.add(
            "cluster/healthy",
            Kind.WAIT_HEALTHY,
            "cluster",
            f"wait for {len(desired.controllers)} etcd members and the Kubernetes API",
            (*talos_steps, bootstrap),
            endpoint=desired.initial_endpoint,
        )
    return None
