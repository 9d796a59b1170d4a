"""Observe the real state cheaply: the same number of calls for 5 nodes as for 50.

- Proxmox: one GET /cluster/resources; a VM's config (and pending values) only when its spec tag differs or
  the resources it runs with are not the spec.
- Talos: one talosctl run per question for every node at once (stage, version, schematic and config
  version, all in parallel); a config is read only where the runner cannot prove it unchanged (same boot, same
  MachineConfig version as when it last read it, and that config was the desired one).
- Kubernetes: a fixed handful of requests (probe, Flux namespace, Kustomizations list), in parallel with Talos.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from runner.core.derive import Desired, DesiredNode
from runner.core.errors import RunnerError, Transient
from runner.core.etcd_state import counts_as_bootstrapped
from runner.core.state import Observed, ObservedCluster, ObservedTalosNode, ObservedVm
from runner.core.talos import config_hash, parse_machine_config, redacted
from runner.core.vmdiff import resources_disagree
from runner.drivers.talos.api import NodeStatus
from runner.engine.reconcile.clusterstate import ClusterFacts, ClusterStateStore, ConfigSeen
from runner.engine.reconcile.etcd_bootstrap import bootstrap_verdict, requested_recently
from runner.engine.reconcile.targets import Connections

if TYPE_CHECKING:
    from runner.drivers.talos import NodeStatus

T = TypeVar("T")


def observe_vms(desired: Desired, conns: Connections) -> tuple[dict[int, ObservedVm], frozenset[str] | None]:
    """One GET /cluster/resources; a VM's config and pending values only when its spec tag differs or what it
    runs with is not the spec (a change left pending by a run that stopped before its reboot, say); storage
    only when creating."""
    px = conns.proxmox
    vms = {vm.vmid: vm for vm in px.list_vms()}
    for dn in desired.nodes:
        ov = vms.get(dn.vm.vmid)
        if ov is not None and ov.managed and (ov.spec_hash != dn.vm.spec_hash or resources_disagree(dn.vm, ov)):
            config, pending = px.vm_config(ov.node, ov.vmid), px.pending_changes(ov.node, ov.vmid)
            vms[ov.vmid] = dataclasses.replace(ov, config=config, pending=pending)
    images = None
    if any(dn.vm.vmid not in vms for dn in desired.nodes):
        image = desired.nodes[0].vm.image
        images = conns.proxmox.list_images(image.node, image.storage)
    return vms, images


def _kubelet_version(docs: list[dict[str, Any]]) -> str | None:
    """The Kubernetes version a node runs, from its config's kubelet image tag."""
    for doc in docs:
        image = ((doc.get("machine") or {}).get("kubelet") or {}).get("image")
        if image and ":" in image:
            return str(image).rsplit(":", 1)[1]
    return None


def _answered(found: dict[str, Any], ips: list[str], what: str) -> None:
    silent = [ip for ip in ips if ip not in found]
    if silent:  # running a moment ago: it is rebooting or the network blinked; the next run sees which
        raise Transient(f"talosctl {what}: no answer from {', '.join(silent)}")


def _configs(
    running: list[DesiredNode],
    conns: Connections,
    booted: dict[str, str | None],
    versions: dict[str, int],
    seen: dict[str, ConfigSeen],
) -> tuple[dict[str, tuple[str, str | None, list[Any] | None]], dict[str, ConfigSeen]]:
    """(ip -> (config hash, kubelet version, redacted config or None when not read), what was read)."""
    out: dict[str, tuple[str, str | None, list[Any] | None]] = {}
    read: list[DesiredNode] = []
    for dn in running:
        known = seen.get(dn.ip)
        if (
            known
            and (known.booted, known.version) == (booted[dn.ip], versions[dn.ip])
            and (known.config_hash == dn.config_hash)
        ):
            out[dn.ip] = (known.config_hash, known.kubernetes_version, None)
        else:
            read.append(dn)
    configs = conns.talos.machine_configs([dn.ip for dn in read])
    _answered(configs, [dn.ip for dn in read], "get machineconfig")
    fresh: dict[str, ConfigSeen] = {}
    for dn in read:
        docs = parse_machine_config(configs[dn.ip].text.reveal())
        digest, kubelet = config_hash(docs), _kubelet_version(docs)
        out[dn.ip] = (digest, kubelet, redacted(docs))
        if booted[dn.ip]:
            fresh[dn.ip] = ConfigSeen(str(booted[dn.ip]), configs[dn.ip].version, digest, kubelet)
    return out, fresh


def powered_nodes(desired: Desired, vms: dict[int, ObservedVm]) -> list[DesiredNode]:
    return [dn for dn in desired.nodes if (vm := vms.get(dn.vm.vmid)) and vm.managed and vm.status == "running"]


def _ask_early(
    pool: ThreadPoolExecutor, ask: Callable[[Sequence[str]], dict[str, T]], ips: list[str]
) -> Future[dict[str, T]]:
    return pool.submit(ask, ips)


def _settled(early: Future[dict[str, T]], ask: Callable[[Sequence[str]], dict[str, T]], ips: list[str]) -> dict[str, T]:
    """The early answer when it covers every running node; otherwise ask those nodes again.

    Asked before the stages were known, an early call may have met nodes that are booting or in maintenance
    mode (a first node that does not answer fails a whole `talosctl get`); only the second ask counts."""
    try:
        found = early.result()
    except RunnerError:
        found = {}
    if all(ip in found for ip in ips):
        return {ip: found[ip] for ip in ips}
    return ask(ips)


def observe_talos(
    desired: Desired,
    powered: list[DesiredNode],
    statuses: dict[str, NodeStatus],
    early: dict[str, Future[Any]],
    conns: Connections,
    store: ClusterStateStore | None,
) -> dict[str, ObservedTalosNode]:
    """Versions, schematics and config versions of the running nodes (asked together with the stages), then
    the configs the runner cannot prove unchanged (one more run, only when there are any)."""
    talos = conns.talos
    running = [dn for dn in powered if statuses[dn.ip].stage == "running"]
    ips = [dn.ip for dn in running]
    versions = _settled(early["versions"], talos.versions, ips)
    schematics = _settled(early["schematics"], talos.schematics, ips)
    config_versions = _settled(early["config_versions"], talos.config_versions, ips)
    _answered(versions, ips, "version")
    _answered(schematics, ips, "get extensions")
    _answered(config_versions, ips, "get machineconfig")
    seen = store.configs_seen(desired.cluster) if store else {}
    booted = {ip: statuses[ip].booted for ip in ips}
    configs, fresh = _configs(running, conns, booted, config_versions, seen)
    if store and fresh:
        store.record_configs_seen(desired.cluster, fresh)
    # A silent node the runner has read a running config from has run: crashed or hung, not new.
    out = {
        dn.name: ObservedTalosNode(dn.name, dn.ip, statuses[dn.ip].stage, ran_before=dn.ip in seen) for dn in powered
    }
    for dn in running:
        digest, kubelet, shown = configs[dn.ip]
        out[dn.name] = ObservedTalosNode(
            dn.name,
            dn.ip,
            "running",
            config_hash=digest,
            talos_version=versions[dn.ip],
            schematic_id=schematics[dn.ip],
            kubernetes_version=kubelet,
            config_redacted=shown,
        )
    return out


def _recorded(facts: ClusterFacts, requested: bool = False) -> ObservedCluster:
    """What the records alone say, for when the cluster cannot be asked. A recorded bootstrap (or hand-off)
    stands for good: a controller that does not answer is no sign that etcd is gone. A bootstrap the runner
    asked for a moment ago (`requested`) may still be starting: it is waited for, not asked for again."""
    bootstrapped = facts.bootstrapped_at is not None or facts.handoff_at is not None or requested
    return ObservedCluster(
        bootstrapped=bootstrapped or facts.adopted_at is not None,
        handoff_recorded=facts.handoff_at is not None,
        endpoint=facts.endpoint,
        adopted=facts.adopted_at is not None,
    )


def observe_cluster(
    desired: Desired,
    conns: Connections,
    facts: ClusterFacts,
    running: Sequence[str] = (),
    store: ClusterStateStore | None = None,
) -> ObservedCluster:
    """Bootstrapped? A recorded bootstrap says so for good; otherwise what Talos says about etcd on the running
    controllers `running` (see `etcd_bootstrap`): a starting etcd counts, so it is waited out, never
    bootstrapped again. A controller that should answer and does not leaves the run to try again later."""
    base = _recorded(facts)
    if not base.bootstrapped:
        verdict = bootstrap_verdict(desired, conns, facts, running)
        if verdict == "unknown":
            raise Transient("cannot tell whether etcd was bootstrapped: a running controller did not answer")
        if not counts_as_bootstrapped(verdict):
            return base
        if verdict == "bootstrapped" and store is not None:  # members listed: it stands from now on
            store.record_bootstrap(desired.cluster, datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))
    kube = conns.kube(facts.endpoint or desired.initial_endpoint)
    try:
        try:  # the node list doubles as the probe: it answers, or the API server is not up yet
            cordoned = frozenset(kube.cordoned_by_runner())
        except Transient:
            return dataclasses.replace(base, bootstrapped=True)
        statuses = kube.kustomizations_status()
        flux_version, flux_recipient = kube.flux_facts()
        settings = kube.flux_settings() if flux_version else None
        return dataclasses.replace(
            base,
            bootstrapped=True,
            kube_api_ready=True,
            flux_version=flux_version,
            flux_recipient=flux_recipient,
            flux_settings=tuple(sorted(settings.items())) if settings is not None else None,
            kustomizations_ready=bool(statuses) and all(s.verdict == "ready" for s in statuses),
            cordoned=cordoned,
        )
    finally:
        kube.close()


def _askable(desired: Desired, facts: ClusterFacts, statuses: Mapping[str, NodeStatus]) -> bool:
    def running(ip: str) -> bool:
        status = statuses.get(ip)
        return status is not None and status.stage == "running"

    if running(desired.bootstrap_node.ip):
        return True
    return _recorded(facts).bootstrapped and any(running(c.ip) for c in desired.controllers)


def _running_controllers(desired: Desired, statuses: Mapping[str, NodeStatus], conns: Connections) -> list[str]:
    return [
        c.ip
        for c in desired.controllers
        if (st := statuses.get(c.ip)) is not None and st.stage == "running" and conns.may_contact(c.ip)
    ]


def observe(
    desired: Desired, conns: Connections, facts: ClusterFacts, store: ClusterStateStore | None = None
) -> Observed:
    vms, images = observe_vms(desired, conns)
    # An address a PR proposes gets no client certificate before merge: such a node reads as unreachable.
    powered = [dn for dn in powered_nodes(desired, vms) if conns.may_contact(dn.ip)]
    requested = facts.bootstrap_requested_at is not None and requested_recently(facts, conns.settings.boot_timeout)
    if not powered:
        return Observed(vms=vms, images=images, talos={}, cluster=_recorded(facts, requested))
    ips = [dn.ip for dn in powered]
    talos = conns.talos
    with ThreadPoolExecutor(5, thread_name_prefix="observe") as pool:
        # Every question at once: in a converged cluster every node runs, so the answers asked before the
        # stages are known are the ones needed (one round of talosctl runs, not two).
        early: dict[str, Future[Any]] = {
            "versions": _ask_early(pool, talos.versions, ips),
            "schematics": _ask_early(pool, talos.schematics, ips),
            "config_versions": _ask_early(pool, talos.config_versions, ips),
        }
        statuses = talos.statuses(ips)
        # Ask the cluster while Talos answers the rest: through the first controller until a bootstrap is
        # recorded (only its etcd can say whether there is one), then through any controller that runs.
        askable = _askable(desired, facts, statuses)
        controllers = _running_controllers(desired, statuses, conns)
        cluster_f = pool.submit(observe_cluster, desired, conns, facts, controllers, store) if askable else None
        nodes = observe_talos(desired, powered, statuses, early, conns, store)
        cluster = cluster_f.result() if cluster_f else _recorded(facts, requested)
    return Observed(vms=vms, images=images, talos=nodes, cluster=cluster)
