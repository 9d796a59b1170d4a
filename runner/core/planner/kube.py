"""Kubernetes phase: install Flux, wait for its Kustomizations, record the hand-off, move to the VIP."""

from __future__ import annotations

from runner.core.derive import Desired
from runner.core.planner.builder import PlanBuilder
from runner.core.state import Observed
from runner.core.steps import Kind


def plan_kubernetes(b: PlanBuilder, desired: Desired, observed: Observed, healthy: str | None) -> None:
    if desired.flux_version is None or desired.flux_path is None:
        return
    cluster = observed.cluster
    install = None
    if cluster.flux_version != desired.flux_version:
        why = (
            "Flux is not installed"
            if cluster.flux_version is None
            else f"Flux {cluster.flux_version}→{desired.flux_version}"
        )
        install = b.add(
            "flux/install",
            Kind.INSTALL_FLUX,
            "flux",
            f"{why}: install Flux {desired.flux_version}, sops-age Secret, GitRepository and Kustomization "
            f"for {desired.flux_path}",
            (healthy,),
            version=desired.flux_version,
            path=desired.flux_path,
        )
    wait = None
    if install or not cluster.kustomizations_ready:
        wait = b.add(
            "flux/ready", Kind.WAIT_FLUX, "flux", "wait for Flux Kustomizations to be Ready", (install, healthy)
        )
    handoff = None
    if not cluster.handoff_recorded:
        handoff = b.add(
            "flux/handoff",
            Kind.RECORD_HANDOFF,
            "flux",
            "record the hand-off: Flux owns in-cluster objects from now on",
            (wait,),
        )
    if cluster.endpoint != desired.vip_endpoint:
        switch = b.add(
            "cluster/endpoint",
            Kind.SWITCH_ENDPOINT,
            "cluster",
            f"switch the endpoint to the VIP {desired.vip} once it answers",
            (handoff, wait),
            endpoint=desired.vip_endpoint,
        )
        # Joining nodes reach the API through KubePrism, whose endpoints are the configured one plus controllers
        # found by discovery: with the first controller's address for good, losing it stops joins whenever
        # discovery cannot help. `.cluster` changes apply without a reboot (Talos CanApplyImmediate).
        for dn in desired.nodes:
            if dn.name in b.blocked or dn.name in b.powered_off:
                continue
            b.add(
                f"node/{dn.name}/endpoint",
                Kind.MOVE_ENDPOINT,
                f"node/{dn.name}",
                f"{dn.name}: control-plane endpoint {desired.initial_endpoint}→{desired.vip_endpoint} in its machine "
                "config (applies without a reboot)",
                (switch,),
                node_name=dn.name,
                ip=dn.ip,
                endpoint=desired.vip_endpoint,
            )
