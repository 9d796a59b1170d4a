"""Machine configs per node, from spec + secrets: the rendered text (secret) and its hash (for drift)."""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from runner.core.cluster_secrets import ClusterSecrets
from runner.core.derive import Desired
from runner.core.secret import Secret
from runner.core.spec import Cluster
from runner.core.talos import (
    MachineConfigInput,
    SecretsBundle,
    bundle_fingerprint,
    machine_config,
    render_config,
)


@dataclass(frozen=True)
class NodeConfig:
    text: Secret  # holds CA keys and tokens: never logged, only piped to talosctl
    hash: str
    secrets: frozenset[str]
    redacted: list[Any]


MemoKey = tuple[tuple[tuple[str, Any], ...], str]  # (a node's config inputs, the bundle's fingerprint)


class RenderedConfigs:
    """Configs this process has rendered, by everything that goes into one (the node's inputs and the bundle).

    Rendering is deterministic and costs tens of milliseconds per node, most of a no-op reconcile of a large
    cluster; a long-lived engine renders a node again only when something it depends on changed. Memory only.
    """

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._items: OrderedDict[MemoKey, NodeConfig] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: MemoKey) -> NodeConfig | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: MemoKey, config: NodeConfig) -> None:
        with self._lock:
            self._items[key] = config
            while len(self._items) > self._limit:
                self._items.popitem(last=False)


def config_endpoint(desired: Desired, current: str | None) -> str:
    """The control-plane endpoint machine configs name: the VIP once the runner switched to it, else the first
    controller (the VIP does not exist before kube-vip runs in a bootstrapped cluster)."""
    return desired.vip_endpoint if current == desired.vip_endpoint else desired.initial_endpoint


def node_configs(
    cluster: Cluster,
    desired: Desired,
    secrets: ClusterSecrets,
    bundle: SecretsBundle,
    rendered: RenderedConfigs | None = None,
    endpoint: str | None = None,
    adopted: bool = False,
) -> dict[str, NodeConfig]:
    """Every node's config. `adopted`: the cluster was built by another tool (runner adopt), whose configs carry
    `persist: true`; the runner's keep it, so applying them never needs a reboot for that alone."""
    shared: dict[str, Any] = {
        "cluster_name": cluster.name,
        "prefixlen": cluster.network.cidr.prefixlen,
        "gateway": str(cluster.network.gateway),
        "nameservers": tuple(str(n) for n in cluster.network.nameservers),
        "interface": cluster.network.interface,
        "install_disk": cluster.talos.install_disk,
        # The first controller until the runner switched to the VIP, then the VIP (see config_endpoint).
        "cluster_endpoint": endpoint or desired.initial_endpoint,
        "vip": desired.vip,
        "vip_owner": cluster.network.vip_owner,
        "controller_ips": tuple(n.ip for n in desired.controllers),
        "tailscale_login_server": cluster.tailscale.login_server if cluster.tailscale else None,
        "tailscale_auth_key": secrets.tailscale_auth_key if cluster.tailscale else None,
        # Proxmox CSI reads region (the PVE cluster; a standalone host is its own) and zone (the PVE node) from
        # these labels; Talos applies nodeLabels through the API, so no cloud controller manager is needed.
        "node_labels": (
            ("topology.kubernetes.io/region", cluster.proxmox.node),
            ("topology.kubernetes.io/zone", cluster.proxmox.node),
        ),
        "persist": True if adopted else None,
    }
    fingerprint = bundle_fingerprint(bundle) if rendered is not None else ""
    out: dict[str, NodeConfig] = {}
    for dn in desired.nodes:
        fields = {
            **shared,
            "name": dn.name,
            "role": dn.role,
            "ip": dn.ip,
            "installer_image": dn.installer_image,
            "talos_version": dn.talos_version,
            "kubernetes_version": dn.kubernetes_version,
        }
        # The memo's key is the inputs themselves: checking them (MachineConfigInput) is left to a render.
        key = (tuple(sorted(fields.items())), fingerprint)
        known = rendered.get(key) if rendered is not None else None
        if known is None:
            done = render_config(machine_config(MachineConfigInput(**fields), bundle))
            known = NodeConfig(Secret(done.text), done.hash, done.secrets, done.redacted)
            if rendered is not None:
                rendered.put(key, known)
        out[dn.name] = known
    return out


def with_config_hashes(desired: Desired, configs: dict[str, NodeConfig]) -> Desired:
    nodes = tuple(
        dataclasses.replace(n, config_hash=configs[n.name].hash, config_redacted=configs[n.name].redacted)
        for n in desired.nodes
    )
    return dataclasses.replace(desired, nodes=nodes)
