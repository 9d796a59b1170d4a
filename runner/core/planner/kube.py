"""Kubernetes phase: install or upgrade Flux, wait for its Kustomizations, record the hand-off, move to the VIP."""

from __future__ import annotations

from runner.core.derive import Desired
from runner.core.planner.builder import PlanBuilder
from runner.core.state import Observed
from runner.core.steps import Kind
from runner.core.versions import parse_version


def plan_kubernetes(builder: PlanBuilder, desired: Desired, observed: Observed, healthy: str | None) -> None:
    if desired.flux_version is None or desired.flux_path is None:
        return
    cluster = observed.cluster
    install = None
    if cluster.flux_version is None:
        install = builder.add(
            "flux/install",
            Kind.INSTALL_FLUX,
            "flux",
            f"Flux is not installed: install Flux {desired.flux_version}, sops-age Secret, GitRepository and "
            f"Kustomization for {desired.flux_path}",
            (healthy,),
            version=desired.flux_version,
            path=desired.flux_path,
        )
    elif _newer(desired.flux_version, cluster.flux_version):
        # After every Talos and Kubernetes step of this plan: the release's minimum Kubernetes is met first.
        after = tuple(s.id for s in builder.steps.values() if s.kind in _CLUSTER_UPGRADES)
        install = builder.add(
            "flux/upgrade",
            Kind.UPGRADE_FLUX,
            "flux",
            f"Flux {cluster.flux_version}→{desired.flux_version} (Kubernetes {desired.nodes[0].kubernetes_version} "
            f"meets its minimum): migrate the Flux CRDs' stored versions as `flux migrate` does, apply Flux "
            f"{desired.flux_version}, prune what the old install had that the new one does not",
            (healthy, *after),
            version=desired.flux_version,
            previous=cluster.flux_version,
            path=desired.flux_path,
        )
    rekey = None
    if install is None and desired.flux_recipient and cluster.flux_recipient != desired.flux_recipient:
        # The Flux key was rotated in the repository: Flux can only decrypt the re-encrypted flux/ files
        # once its sops-age Secret holds the new key.
        held = f"Flux key {_short(cluster.flux_recipient)}" if cluster.flux_recipient else "no recorded Flux key"
        rekey = builder.add(
            "flux/sops-age",
            Kind.REPLACE_FLUX_KEY,
            "flux",
            f"the sops-age Secret holds {held}, the repository's Flux key is {_short(desired.flux_recipient)}: "
            "replace it",
            (healthy,),
            recipient=desired.flux_recipient,
        )
    if install is None and cluster.flux_settings != desired.flux_settings:
        change = _settings_change(cluster.flux_settings, desired.flux_settings)
        install = builder.add(
            "flux/settings",
            Kind.APPLY_FLUX_SETTINGS,
            "flux",
            f"cluster-settings differ from cluster.yaml ({change}): apply the ConfigMap the flux/ Kustomizations "
            "substitute from (Flux v2.3 uses it at each Kustomization's next interval)",
            (healthy,),
        )
    wait = None
    if install or rekey or not cluster.kustomizations_ready:
        wait = builder.add(
            "flux/ready", Kind.WAIT_FLUX, "flux", "wait for Flux Kustomizations to be Ready", (install, rekey, healthy)
        )
    handoff = None
    if not cluster.handoff_recorded:
        handoff = builder.add(
            "flux/handoff",
            Kind.RECORD_HANDOFF,
            "flux",
            "record the hand-off: Flux owns in-cluster objects from now on",
            (wait,),
        )
    if cluster.endpoint != desired.vip_endpoint:
        switch = builder.add(
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
        initial, vip = desired.initial_endpoint, desired.vip_endpoint  # each looks the controllers up again
        for dn in desired.nodes:
            if dn.name in builder.blocked or dn.name in builder.powered_off or dn.name in builder.down:
                continue
            builder.on_node(dn.name).add(
                "endpoint",
                Kind.MOVE_ENDPOINT,
                f"{dn.name}: control-plane endpoint {initial}→{vip} in its machine config (applies without a reboot)",
                switch,
                ip=dn.ip,
                endpoint=vip,
            )


_CLUSTER_UPGRADES = (Kind.UPGRADE_TALOS, Kind.UPGRADE_KUBERNETES, Kind.SYNC_MANIFESTS)


def _newer(wanted: str, running: str) -> bool:
    """Flux only moves forward: a running release newer than the one picked (installed by a newer runner) stays."""
    if wanted == running:
        return False
    try:
        return parse_version(wanted) > parse_version(running)
    except ValueError:  # a version label that is no release number: replace it
        return True


def _short(recipient: str) -> str:
    """Enough of a public age recipient to tell keys apart in a plan."""
    return f"{recipient[:12]}…{recipient[-6:]}"


def _settings_change(old: tuple[tuple[str, str], ...] | None, new: tuple[tuple[str, str], ...]) -> str:
    if old is None:
        return "the ConfigMap is missing"
    before, after = dict(old), dict(new)
    keys = sorted(before.keys() | after.keys())
    return ", ".join(
        f"{k} {before.get(k, '(absent)')}→{after.get(k, '(absent)')}" for k in keys if before.get(k) != after.get(k)
    )
