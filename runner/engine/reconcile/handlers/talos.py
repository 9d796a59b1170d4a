"""Step handlers that act through Talos: configs, bootstrap, upgrades, etcd membership and snapshots."""

from __future__ import annotations

from runner.core.derive import DesiredNode
from runner.core.errors import Transient, Waiting
from runner.core.steps import Kind, Step
from runner.core.talos import config_hash, parse_machine_config
from runner.drivers.talos_schema import schema_minor, validate_config_text
from runner.engine.reconcile import kubernetes_upgrade, manifest_sync
from runner.engine.reconcile.backups import BackupStore
from runner.engine.reconcile.configs import NodeConfig
from runner.engine.reconcile.etcd_snapshots import Controller, take_snapshot
from runner.engine.reconcile.handlers.context import StepContext, now
from runner.engine.reconcile.handlers.table import Handlers


def _checked(config: NodeConfig, talos_version: str, what: str) -> None:
    # Every config sent to a node passes here first (apply_config, move_endpoint): a node only reports
    # what it refuses after receiving it.
    validate_config_text(config.text, talos_version, what, config.secrets)


def _checked_for_running(ctx: StepContext, ip: str, config: NodeConfig, written_for: str, what: str) -> None:
    """A running node decodes the config with the Talos it runs, which is not the spec's version while an
    upgrade is pending: check it against that version's schema too (a kind it does not know is refused)."""
    running = ctx.conns.talos.version(ip)
    if schema_minor(running) != schema_minor(written_for):
        _checked(config, running, f"{what} (the node runs Talos {running})")


def _already_applied(ctx: StepContext, ip: str, config: NodeConfig) -> bool:
    current = ctx.conns.talos.machine_config(ip)
    return config_hash(parse_machine_config(current.reveal())) == config.hash


def apply_config(ctx: StepContext, step: Step) -> str:
    dn = ctx.node(step)
    config = ctx.configs[dn.name]
    what = f"machine config of {dn.name}"
    _checked(config, dn.talos_version, what)
    # In maintenance the node runs the image its VM was created from, the spec's version (checked above).
    stage = ctx.wait_stage(dn, ("maintenance", "running"), ctx.address_hint())
    if stage == "running":
        if _already_applied(ctx, dn.ip, config):
            return "config already applied"
        _checked_for_running(ctx, dn.ip, config, dn.talos_version, what)
        ctx.conns.talos.apply_config(dn.ip, config.text, insecure=False, mode=str(step.params.get("mode", "auto")))
        if step.disruptive:  # a controller of a running cluster: it must be back in etcd before the next one
            ctx.wait_node_healthy(dn)
        else:
            ctx.wait_stage(dn, ("running",))
        return "config applied"
    ctx.register_schematic(dn)  # the install pulls the installer image named in the config
    ctx.conns.talos.apply_config(dn.ip, config.text, insecure=True)
    ctx.wait_stage(dn, ("running",))
    return "config applied in maintenance mode; node installed and running"


def move_endpoint(ctx: StepContext, step: Step) -> str:
    """Re-apply a node's config naming the VIP as control-plane endpoint. Talos applies `.cluster` changes
    immediately (CanApplyImmediate), so `no-reboot` is the mode: it refuses anything that would reboot."""
    dn = ctx.node(step)
    config = ctx.endpoint_configs[dn.name]
    what = f"machine config of {dn.name} naming {step.params['endpoint']}"
    _checked(config, dn.talos_version, what)
    ctx.wait_stage(dn, ("running",))
    if _already_applied(ctx, dn.ip, config):
        return f"already names {step.params['endpoint']}"
    _checked_for_running(ctx, dn.ip, config, dn.talos_version, what)
    ctx.conns.talos.apply_config(dn.ip, config.text, insecure=False, mode="no-reboot")
    return f"control-plane endpoint is now {step.params['endpoint']} (applied without a reboot)"


def bootstrap(ctx: StepContext, step: Step) -> str:
    dn = ctx.node(step)
    ctx.wait_stage(dn, ("running",))
    # Recorded before the call: a runner killed between the call and the record below finds it and waits for
    # the etcd it started (see etcd_bootstrap) instead of calling bootstrap a second time.
    ctx.store.record_bootstrap_request(ctx.desired.cluster, dn.ip, now())
    ctx.conns.talos.bootstrap(dn.ip)
    ctx.store.record_bootstrap(ctx.desired.cluster, now())
    return f"etcd bootstrapped on {dn.name}"


def upgrade_talos(ctx: StepContext, step: Step) -> str:
    """One node to `version`: the spec's, or a stop on the way across minors (then the node keeps the config
    it runs; the spec's config follows once it runs the spec's minor)."""
    dn = ctx.node(step)
    version = str(step.params.get("version") or dn.talos_version)
    if dn.is_controller:
        # etcd health first: every controller healthy and listing all members, so this one may go down.
        for controller in ctx.desired.controllers:
            ctx.wait_node_healthy(controller)
    ctx.register_schematic(dn)
    ctx.conns.talos.upgrade(dn.ip, str(step.params["image"]))
    ctx.wait(lambda: ctx.conns.talos.version(dn.ip) == version, f"{dn.name} running {version}")
    ctx.wait_node_healthy(dn)
    return f"upgraded to {version}"


def upgrade_kubernetes(ctx: StepContext, step: Step) -> str:
    return kubernetes_upgrade.upgrade_component(
        ctx.conns.talos,
        ctx.kube,
        ctx.node(step),
        str(step.params["component"]),
        str(step.params["version"]),
        lambda check, what: ctx.wait(check, what),
    )


def sync_manifests(ctx: StepContext, step: Step) -> str:
    # upgrade-k8s syncs the way the oldest Talos in the cluster does (VerifyVersionCompatibility's minimum)
    running = ctx.conns.talos.versions([n.ip for n in ctx.desired.nodes])
    with ctx.kube_session() as kube:
        return manifest_sync.sync_manifests(
            ctx.conns.talos, kube, str(step.params["ip"]), ctx.handoff, sorted(set(running.values()))
        )


def await_node(ctx: StepContext, step: Step) -> str:
    """One look at a node that ran before and stopped answering: reported, never configured nor waited for."""
    dn = ctx.node(step)
    stage = ctx.conns.talos.stage(dn.ip)
    if stage == "unreachable":
        raise Waiting(
            f"{dn.name} ({dn.ip}) still does not answer although VM {dn.vm.vmid} runs: not configured, not "
            "waited for; its console in Proxmox shows why it stopped (a kernel panic, a hung boot); the next "
            "run looks again"
        )
    return f"{dn.name} ({dn.ip}) answers again ({stage}): the next run compares its config"


def _etcd_members(ctx: StepContext, order: list[DesiredNode]) -> list[str]:
    """etcd's members as the first controller that answers lists them (every member knows them all); one
    that does not answer moves to the back, so a crashed controller costs one try per wait, not one per poll."""
    for controller in list(order):
        try:
            return ctx.conns.talos.etcd_members(controller.ip)
        except Transient:
            order.remove(controller)
            order.append(controller)
    raise Transient(f"no controller answers ({', '.join(c.name for c in order)})")


def wait_healthy(ctx: StepContext, step: Step) -> str:
    if step.target != "cluster":
        ctx.wait_node_healthy(ctx.node(step))
        return "healthy"
    order = list(ctx.desired.controllers)
    want = {c.ip for c in order}
    ctx.wait(lambda: want <= set(_etcd_members(ctx, order)), f"etcd listing all {len(want)} controllers")
    with ctx.kube_session() as kube:
        ctx.wait(kube.api_ready, "the Kubernetes API answering")
    return f"etcd has {len(want)} members; Kubernetes API answers"


def etcd_snapshot(ctx: StepContext, step: Step) -> str:
    """Raises SnapshotFailed (Permanent): the disruptive step after it then never starts."""
    keep = ctx.cluster.backups.keep if ctx.cluster.backups else 1
    controllers = [Controller(c.name, c.ip) for c in ctx.desired.controllers]
    info, pruned = take_snapshot(
        ctx.conns.talos,
        controllers,
        BackupStore(ctx.conns.settings.backup_dir),
        cluster=ctx.desired.cluster,
        keep=keep,
        recipients=list(ctx.age_recipients),
        reason=f"before {step.params.get('before', 'a disruptive step')}",
        exclude=tuple(step.params.get("exclude") or ()),
    )
    kept = f"; deleted {len(pruned)} older" if pruned else ""
    return f"snapshot {info.id} from {info.controller} ({info.size} bytes, encrypted){kept}"


def etcd_leave(ctx: StepContext, step: Step) -> str:
    """Remove a departing controller's member through a remaining controller (works even if it is down)."""
    via, name = str(step.params["via"]), str(step.params["node_name"])
    members = ctx.conns.talos.etcd_member_details(via)
    member = next((m for m in members if m.hostname == name), None)
    if member is None:
        return f"{name} is not an etcd member"
    ctx.conns.talos.etcd_remove_member(via, member.id)
    return f"removed etcd member {name}; {len(members) - 1} remain"


HANDLERS: Handlers = {
    Kind.APPLY_CONFIG: apply_config,
    Kind.MOVE_ENDPOINT: move_endpoint,
    Kind.BOOTSTRAP: bootstrap,
    Kind.UPGRADE_TALOS: upgrade_talos,
    Kind.UPGRADE_KUBERNETES: upgrade_kubernetes,
    Kind.SYNC_MANIFESTS: sync_manifests,
    Kind.WAIT_HEALTHY: wait_healthy,
    Kind.ETCD_SNAPSHOT: etcd_snapshot,
    Kind.ETCD_LEAVE: etcd_leave,
    Kind.AWAIT_NODE: await_node,
}
