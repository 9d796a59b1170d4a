"""Observe the real state cheaply: one Proxmox call when nothing changed, Talos and Kubernetes as needed."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from runner.core.derive import Desired, DesiredNode
from runner.core.errors import Permanent, Transient
from runner.core.state import Observed, ObservedCluster, ObservedTalosNode, ObservedVm
from runner.core.talos import config_hash, parse_machine_config, redacted
from runner.engine.clusterstate import ClusterFacts
from runner.engine.targets import Connections


def observe_vms(desired: Desired, conns: Connections) -> tuple[dict[int, ObservedVm], frozenset[str] | None]:
    """One GET /cluster/resources; a VM's config only when its spec tag differs; storage only when creating."""
    vms = {vm.vmid: vm for vm in conns.proxmox.list_vms()}
    for dn in desired.nodes:
        ov = vms.get(dn.vm.vmid)
        if ov is not None and ov.managed and ov.spec_hash != dn.vm.spec_hash:
            vms[ov.vmid] = dataclasses.replace(ov, config=conns.proxmox.vm_config(ov.node, ov.vmid))
    images = None
    if any(dn.vm.vmid not in vms for dn in desired.nodes):
        image = desired.nodes[0].vm.image
        images = conns.proxmox.list_images(image.node, image.storage)
    return vms, images


def _talos_node(dn: DesiredNode, conns: Connections) -> ObservedTalosNode:
    if not conns.may_contact(dn.ip):  # an address a PR proposes: it gets no client certificate before merge
        return ObservedTalosNode(dn.name, dn.ip, "unreachable")
    try:
        stage = conns.talos.stage(dn.ip)
    except Transient:
        stage = "unreachable"
    if stage != "running":
        return ObservedTalosNode(dn.name, dn.ip, stage)
    docs = parse_machine_config(conns.talos.machine_config(dn.ip).reveal())
    return ObservedTalosNode(
        dn.name,
        dn.ip,
        "running",
        config_hash=config_hash(docs),
        talos_version=conns.talos.version(dn.ip),
        schematic_id=conns.talos.schematic(dn.ip),
        kubernetes_version=_kubelet_version(docs),
        config_redacted=redacted(docs),
    )


def _kubelet_version(docs: list[dict[str, Any]]) -> str | None:
    """The Kubernetes version a node runs, from its config's kubelet image tag."""
    for doc in docs:
        image = ((doc.get("machine") or {}).get("kubelet") or {}).get("image")
        if image and ":" in image:
            return str(image).rsplit(":", 1)[1]
    return None


def observe_talos(desired: Desired, vms: dict[int, ObservedVm], conns: Connections) -> dict[str, ObservedTalosNode]:
    running = [dn for dn in desired.nodes if (vm := vms.get(dn.vm.vmid)) and vm.managed and vm.status == "running"]
    if not running:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(running)), thread_name_prefix="observe") as pool:
        return dict(zip([dn.name for dn in running], pool.map(lambda dn: _talos_node(dn, conns), running), strict=True))


def observe_cluster(
    desired: Desired, talos: dict[str, ObservedTalosNode], conns: Connections, facts: ClusterFacts
) -> ObservedCluster:
    first = desired.bootstrap_node
    base = ObservedCluster(handoff_recorded=facts.handoff_at is not None, endpoint=facts.endpoint)
    state = talos.get(first.name)
    if state is None or state.stage != "running":
        return base
    try:
        bootstrapped = bool(conns.talos.etcd_members(first.ip))
    except (Transient, Permanent):
        bootstrapped = False  # etcd not started yet: the node waits for `bootstrap`
    if not bootstrapped:
        return base
    kube = conns.kube(facts.endpoint or desired.initial_endpoint, conns.talos.kubeconfig(first.ip))
    try:
        if not kube.api_ready():
            return dataclasses.replace(base, bootstrapped=True)
        statuses = kube.kustomizations_status()
        return dataclasses.replace(
            base,
            bootstrapped=True,
            kube_api_ready=True,
            flux_version=kube.flux_version(),
            kustomizations_ready=bool(statuses) and all(s.verdict == "ready" for s in statuses),
            cordoned=frozenset(kube.cordoned_by_runner()),
        )
    finally:
        kube.close()


def observe(desired: Desired, conns: Connections, facts: ClusterFacts) -> Observed:
    vms, images = observe_vms(desired, conns)
    talos = observe_talos(desired, vms, conns)
    cluster = observe_cluster(desired, talos, conns, facts)
    return Observed(vms=vms, images=images, talos=talos, cluster=cluster)
