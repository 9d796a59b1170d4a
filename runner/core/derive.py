"""Desired state from the spec: per-node schematic, image, VM spec; pure and deterministic."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from runner.core.flux_settings import cluster_settings
from runner.core.metanet import NODE_KERNEL_ARGS, meta_network_config
from runner.core.schematic import Schematic, node_schematic, schematic_id
from runner.core.spec import Cluster, Node
from runner.core.state import ImageSpec, VmSpec


@dataclass(frozen=True)
class DesiredNode:
    name: str
    role: str
    ip: str
    vm: VmSpec
    schematic_id: str
    schematic_yaml_meta: str  # the META key 10 network config carried by the node's schematic
    installer_image: str
    talos_version: str
    kubernetes_version: str
    config_hash: str | None = None  # machine config hash; None when secrets are not available (offline plan)
    config_redacted: list[Any] | None = field(default=None, compare=False)  # secrets as ***, for plan diffs
    # What the factory must know before any image or installer of `schematic_id` is asked for.
    schematic: Schematic = field(default_factory=Schematic, compare=False)

    @property
    def is_controller(self) -> bool:
        return self.role == "controlplane"


@dataclass(frozen=True)
class Desired:
    cluster: str
    nodes: tuple[DesiredNode, ...]
    vip: str
    allow_destroy: bool
    drift: str
    flux_version: str | None  # None: no Flux hand-off for this cluster
    flux_path: str | None
    flux_recipient: str | None = None  # the Flux key's public half from cluster.yaml (flux.ageRecipient)
    flux_settings: tuple[tuple[str, str], ...] = ()  # the cluster-settings ConfigMap's data, sorted
    etcd_snapshots: bool = False  # snapshot etcd before disruptive control-plane steps (spec: backups)
    adoption_rollout: bool = False  # an adopted cluster takes reboot-needing differences (spec: adoption.rollout)

    @property
    def controllers(self) -> tuple[DesiredNode, ...]:
        return tuple(n for n in self.nodes if n.is_controller)

    @property
    def bootstrap_node(self) -> DesiredNode:
        """Bootstrap runs once, on the first controller in spec order."""
        return self.controllers[0]

    @property
    def initial_endpoint(self) -> str:
        # The VIP only exists once kube-vip runs in a bootstrapped cluster: until then talk to the first controller.
        return f"https://{self.bootstrap_node.ip}:6443"

    @property
    def vip_endpoint(self) -> str:
        return f"https://{self.vip}:6443"

    def node(self, name: str) -> DesiredNode:
        return next(n for n in self.nodes if n.name == name)


def deterministic_mac(cluster: str, node: str) -> str:
    """A stable, locally administered unicast MAC for a node that did not pin one."""
    digest = bytearray(hashlib.sha256(f"{cluster}/{node}".encode()).digest()[:6])
    digest[0] = (digest[0] & 0xFE) | 0x02
    return ":".join(f"{b:02X}" for b in digest)


def _factory_host(url: str) -> str:
    # "https://factory.talos.dev/" -> "factory.talos.dev" (the installer image's registry host).
    return url.split("://", 1)[-1].split("/", 1)[0]


def image_filename(schematic: str, version: str, platform: str) -> str:
    return f"talos-{schematic[:16]}-{version}-{platform}-amd64.qcow2"


def spec_hash(fields: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _node(cluster: Cluster, node: Node, flux_version: str | None) -> DesiredNode:
    d = cluster.vm_defaults
    net = cluster.network
    meta = meta_network_config(
        hostname=node.name,
        ip=str(node.ip),
        prefixlen=net.cidr.prefixlen,
        gateway=str(net.gateway),
        nameservers=[str(n) for n in net.nameservers],
        interface=net.interface,
    )
    schematic = node_schematic(cluster.talos.extensions, meta, NODE_KERNEL_ARGS)
    sid = schematic_id(schematic)
    factory = cluster.image_factory
    version = cluster.talos.version
    image = ImageSpec(
        node=cluster.proxmox.node,
        storage=cluster.proxmox.image_storage,
        filename=image_filename(sid, version, factory.platform),
        url=f"{factory.url.rstrip('/')}/image/{sid}/{version}/{factory.platform}-amd64.qcow2",
    )
    fields: dict[str, object] = {
        "vmid": node.vmid,
        "name": node.name,
        "node": cluster.proxmox.node,
        "cores": node.cores or d.cores,
        "memory": node.memory or d.memory,
        "disk_gb": node.disk_gb or d.disk_gb,
        "mac": (node.mac or deterministic_mac(cluster.name, node.name)).upper(),
        "bridge": cluster.proxmox.bridge,
        "storage": cluster.proxmox.storage,
        "machine": d.machine,
        "bios": d.bios,
        "cpu_type": d.cpu_type,
        "scsihw": d.scsihw,
        "onboot": d.onboot,
        "agent": d.agent,
        "role": node.role,
    }
    # The image only matters when the VM is created: a new schematic later means a Talos upgrade, not a new VM.
    vm = VmSpec(**fields, image=image, spec_hash=spec_hash(fields), cluster=cluster.name)  # type: ignore[arg-type]
    installer = f"{_factory_host(factory.url)}/{factory.platform}-installer/{sid}:{version}"
    return DesiredNode(
        name=node.name,
        role=node.role,
        ip=str(node.ip),
        vm=vm,
        schematic_id=sid,
        schematic_yaml_meta=meta,
        installer_image=installer,
        talos_version=version,
        kubernetes_version=cluster.kubernetes.version,
        schematic=schematic,
    )


def derive(cluster: Cluster, flux_version: str | None = None) -> Desired:
    return Desired(
        cluster=cluster.name,
        nodes=tuple(_node(cluster, n, flux_version) for n in cluster.nodes),
        vip=str(cluster.network.vip),
        allow_destroy=cluster.allow_destroy,
        drift=cluster.drift,
        adoption_rollout=cluster.adoption.rollout,
        flux_version=flux_version if cluster.flux else None,
        flux_path=cluster.flux.path if cluster.flux else None,
        flux_recipient=cluster.flux.age_recipient if cluster.flux else None,
        flux_settings=tuple(sorted(cluster_settings(cluster).items())) if cluster.flux else (),
        etcd_snapshots=cluster.backups is not None,
    )
