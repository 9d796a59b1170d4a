"""Talos phase: configs for new nodes, upgrades and config changes one node at a time, bootstrap once."""

from __future__ import annotations

from runner.core.configdiff import config_diff
from runner.core.derive import Desired, DesiredNode
from runner.core.planner.builder import PlanBuilder, roll
from runner.core.planner.down import held
from runner.core.planner.kubernetes_upgrade import images_only, plan_kubernetes_upgrade, upgrading
from runner.core.planner.stages import plan_stages
from runner.core.state import Observed, ObservedTalosNode
from runner.core.steps import Kind
from runner.core.talos.immediate import reboot_paths
from runner.core.talos.k8s_upgrade import without_installer
from runner.core.version_path import NoPath, Stage, upgrade_path
from runner.core.versions import minor_of, parse_version


def _talos_state(observed: Observed, node: DesiredNode) -> ObservedTalosNode:
    return observed.talos.get(node.name) or ObservedTalosNode(node.name, node.ip, "unreachable")


def _config_reason(node: DesiredNode, state: ObservedTalosNode, k8s_upgrade: bool = False) -> str:
    if k8s_upgrade and state.kubernetes_version and state.kubernetes_version != node.kubernetes_version:
        return (
            f"machine config of {node.name}: apply the spec after the Kubernetes upgrade "
            "(nothing to do if the upgrade already brought it there)"
        )
    if state.kubernetes_version and state.kubernetes_version != node.kubernetes_version:
        parts = "control-plane components and kubelet" if node.is_controller else "kubelet"
        return f"Kubernetes {state.kubernetes_version}→{node.kubernetes_version} on {node.name} ({parts}): apply config"
    return f"machine config of {node.name} differs from the spec: apply (mode auto)"


def _adopted_reason(reason: str) -> str:
    adopted = "(mode no-reboot: the cluster was adopted)"
    return reason.replace("(mode auto)", adopted) if "(mode auto)" in reason else f"{reason} {adopted}"


def _reboot_paths(node: DesiredNode, state: ObservedTalosNode) -> list[str]:
    if state.config_redacted is None or node.config_redacted is None:
        return []
    return reboot_paths(state.config_redacted, node.config_redacted)


def _config_changes(node: DesiredNode, state: ObservedTalosNode) -> list[str]:
    """The redacted diff a reviewer sees (secret values are *** on both sides, so none can leak)."""
    if state.config_redacted is None or node.config_redacted is None:
        return []
    return config_diff(state.config_redacted, node.config_redacted)


def _installer_only(node: DesiredNode, state: ObservedTalosNode) -> bool:
    """Whether the configs differ in `machine.install.image` alone: the installer of a held upgrade."""
    if state.config_redacted is None or node.config_redacted is None:
        return False
    return not config_diff(without_installer(state.config_redacted), without_installer(node.config_redacted))


def plan_node_talos(
    builder: PlanBuilder, desired: Desired, node: DesiredNode, observed: Observed, k8s_upgrade: bool = False
) -> list[str]:
    """Plan one node's Talos steps; returns the steps that change a running node (rolled one node at a time).

    With `k8s_upgrade` (planned separately, as upgrade-k8s does it) a config that differs in component
    images alone needs no apply; any other difference is applied after the upgrade."""
    if node.name in builder.blocked or node.name in builder.powered_off or node.name in builder.down:
        return []  # nothing can reach a node whose VM stays off (a crashed one is only awaited)
    state = _talos_state(observed, node)
    node_steps = builder.on_node(node.name)
    vm_ready = builder.vm_ready.get(node.name)
    if state.stage != "running":
        observed_vm = observed.vms.get(node.vm.vmid)
        if observed_vm is None:
            why = "new node: apply"
        elif state.stage == "maintenance":
            why = "node is in maintenance mode: apply"
        else:  # a VM that existed but does not answer yet: it may come back configured, or in maintenance
            why = f"node is {state.stage}: once it boots, apply (if in maintenance mode)"
        node_steps.add(
            "config",
            Kind.APPLY_CONFIG,
            f"{why} {node.role} config (Talos {node.talos_version}, Kubernetes {node.kubernetes_version})",
            vm_ready,
            ip=node.ip,
            insecure=True,
            mode="auto",
            config_hash=node.config_hash,
        )
        return []
    rolling: list[str] = [vm_ready] if vm_ready and builder.steps[vm_ready].disruptive else []
    version_changed = bool(state.talos_version) and state.talos_version != node.talos_version
    schematic_changed = state.schematic_id is not None and state.schematic_id != node.schematic_id
    what = [f"Talos {state.talos_version}→{node.talos_version}"] if version_changed else []
    if schematic_changed:
        what.append(f"schematic {str(state.schematic_id)[:12]}→{node.schematic_id[:12]}")
    upgrade = f"upgrade {node.name}: {', '.join(what)} (node reboots into {node.installer_image})"
    # An adopted cluster runs as it was built: what only a reboot brings is reported until the spec opts in.
    no_reboots = observed.cluster.adopted and not desired.adoption_rollout
    upgrade_held = (version_changed or schematic_changed) and no_reboots
    if upgrade_held:
        builder.notes.append(f"{node.name}: {', '.join(what)} held: needs adoption.rollout (an upgrade reboots it)")
    elif (version_changed or schematic_changed) and not held(builder, node, upgrade):
        rolling.append(
            node_steps.add(
                "upgrade",
                Kind.UPGRADE_TALOS,
                upgrade,
                vm_ready,
                disruptive=True,
                ip=node.ip,
                image=node.installer_image,
                version=node.talos_version,
            )
        )
    if node.config_hash is not None and state.config_hash != node.config_hash:
        # Known only when both configs were read: a change Talos applies with a reboot takes any node down.
        reboots = _reboot_paths(node, state)
        drift_only = not rolling and state.kubernetes_version in (None, node.kubernetes_version)
        version_moves = state.kubernetes_version not in (None, node.kubernetes_version)
        if k8s_upgrade and version_moves and images_only(node, state):
            pass  # the upgrade-k8s steps bring this config to the spec
        elif drift_only and desired.drift == "report":
            builder.notes.append(f"drift on {node.name}: machine config differs from the spec (reported only)")
        elif no_reboots and upgrade_held and _installer_only(node, state):
            # The installer is read only at the next install or upgrade: it moves with the upgrade it names,
            # so the adopted node's config stays as the operator built it until adoption.rollout.
            builder.notes.append(f"{node.name}: machine config (machine.install.image) held with the upgrade")
        elif no_reboots and reboots:
            fields = ", ".join(reboots)
            builder.notes.append(
                f"{node.name}: machine config ({fields}) held: needs adoption.rollout "
                "(Talos applies it only with a reboot)"
            )
        elif no_reboots:  # Talos refuses a no-reboot apply that would need one: the node is never taken down
            rolling.append(
                node_steps.add(
                    "config",
                    Kind.APPLY_CONFIG,
                    _adopted_reason(_config_reason(node, state, k8s_upgrade)),
                    vm_ready,
                    *rolling[-1:],
                    ip=node.ip,
                    insecure=False,
                    mode="no-reboot",
                    config_hash=node.config_hash,
                    changes=_config_changes(node, state),
                )
            )
        elif not (node.is_controller and held(builder, node, _config_reason(node, state, k8s_upgrade))):
            rolling.append(
                node_steps.add(
                    "config",
                    Kind.APPLY_CONFIG,
                    _config_reason(node, state, k8s_upgrade),
                    vm_ready,
                    *rolling[-1:],
                    disruptive=node.is_controller or bool(reboots),
                    ip=node.ip,
                    insecure=False,
                    mode="auto",
                    config_hash=node.config_hash,
                    changes=_config_changes(node, state),
                    **({"reboots": reboots} if reboots else {}),  # the drain's cue: this apply reboots the node
                )
            )
    return rolling


def _oldest(observed: Observed, attr: str) -> str | None:
    running = [getattr(t, attr) for t in observed.talos.values() if t.stage == "running" and getattr(t, attr)]
    return min(running, key=parse_version) if running else None


def _newest(observed: Observed, attr: str) -> str | None:
    running = [getattr(t, attr) for t in observed.talos.values() if t.stage == "running" and getattr(t, attr)]
    return max(running, key=parse_version) if running else None


def version_path(builder: PlanBuilder, desired: Desired, observed: Observed) -> list[Stage]:
    """The stages from what the oldest running node runs to the spec; a conflict (nothing planned on the
    running nodes) when no supported path exists, saying what to reach first."""
    talos, kubernetes = _oldest(observed, "talos_version"), _oldest(observed, "kubernetes_version")
    want_talos, want_k8s = desired.nodes[0].talos_version, desired.nodes[0].kubernetes_version
    if talos is None or kubernetes is None:
        return []  # nothing runs yet: new nodes install the spec's versions
    try:
        for kind, newest, want in (
            ("Talos", _newest(observed, "talos_version"), want_talos),
            ("Kubernetes", _newest(observed, "kubernetes_version"), want_k8s),
        ):
            if newest and minor_of(want) < minor_of(newest):
                raise NoPath(f"{kind} downgrade {newest} -> {want} is not supported")
        return upgrade_path(talos, kubernetes, want_talos, want_k8s)
    except NoPath as e:
        builder.conflicts.append(
            f"cluster.yaml talos.version {want_talos} / kubernetes.version {want_k8s}: no supported upgrade path "
            f"from Talos {talos} / Kubernetes {kubernetes}: {e}"
        )
        builder.blocked.update(n.name for n in desired.nodes if n.name in observed.talos)
        return []


def _across_minors(stages: list[Stage]) -> bool:
    """Whether the path needs the staged planner: an intermediate stop, or Kubernetes moving before Talos
    (the single-move planner upgrades Talos first, then Kubernetes)."""
    kinds = [s.component for s in stages]
    return any(not s.final for s in stages) or kinds == ["kubernetes", "talos"]


TALOS_KINDS = (Kind.APPLY_CONFIG, Kind.UPGRADE_TALOS, Kind.UPGRADE_KUBERNETES, Kind.SYNC_MANIFESTS)


def plan_talos(builder: PlanBuilder, desired: Desired, observed: Observed) -> str | None:
    """Plans every node; rolls changes to running nodes one at a time (controllers first); returns the health step."""
    stages = version_path(builder, desired, observed)
    k8s_upgrade = upgrading(desired, observed, builder)
    chains = [
        plan_node_talos(builder, desired, node, observed, k8s_upgrade)
        for node in sorted(desired.nodes, key=lambda n: not n.is_controller)
    ]
    # A new Talos release renders new bootstrap manifests (a schematic change alone does not).
    talos_moved = any(
        s.kind is Kind.UPGRADE_TALOS and observed.talos[str(s.params["node_name"])].talos_version != s.params["version"]
        for s in builder.steps.values()
    )
    held_by_adoption = observed.cluster.adopted and not desired.adoption_rollout
    if _across_minors(stages) and held_by_adoption:
        builder.notes.append("upgrade across Talos minors held: needs adoption.rollout (every node reboots)")
    elif _across_minors(stages):
        last, configs = plan_stages(
            builder, desired, observed, stages, chains, _oldest(observed, "kubernetes_version") or "?"
        )
        roll(builder, configs, last)
    elif k8s_upgrade:
        # Talos upgrades roll first, then the Kubernetes upgrade, then what else the configs change.
        before = [[s for s in steps if builder.steps[s].kind is not Kind.APPLY_CONFIG] for steps in chains]
        after = [[s for s in steps if builder.steps[s].kind is Kind.APPLY_CONFIG] for steps in chains]
        upgraded = plan_kubernetes_upgrade(builder, desired, observed, roll(builder, before), True, talos_moved)
        roll(builder, after, upgraded)
    else:
        plan_kubernetes_upgrade(builder, desired, observed, roll(builder, chains), False, talos_moved)

    bootstrap = None
    first_cp = desired.bootstrap_node
    if not observed.cluster.bootstrapped and first_cp.name not in builder.blocked | builder.down:
        config_step = f"node/{first_cp.name}/config"
        bootstrap = builder.add(
            "cluster/bootstrap",
            Kind.BOOTSTRAP,
            "cluster",
            f"bootstrap etcd once, on the first controller {first_cp.name} ({first_cp.ip})",
            (config_step if config_step in builder.steps else builder.vm_ready.get(first_cp.name),),
            node_name=first_cp.name,
            ip=first_cp.ip,
        )
    talos_steps = [s.id for s in builder.steps.values() if s.kind in TALOS_KINDS]
    if talos_steps or bootstrap or not observed.cluster.kube_api_ready:
        return builder.add(
            "cluster/healthy",
            Kind.WAIT_HEALTHY,
            "cluster",
            f"wait for {len(desired.controllers)} etcd members and the Kubernetes API",
            (*talos_steps, bootstrap),
            endpoint=desired.initial_endpoint,
        )
    return None
