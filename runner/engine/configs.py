"""Machine configs per node, from spec + secrets: the rendered text (secret) and its hash (for drift)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from runner.core.cluster_secrets import ClusterSecrets
from runner.core.derive import Desired
from runner.core.secret import Secret
from runner.core.spec import Cluster
from runner.core.talos import (
    MachineConfigInput,
    SecretsBundle,
    config_hash,
    machine_config,
    redacted,
    render_documents,
    secret_strings,
)


@dataclass(frozen=True)
class NodeConfig:
    text: Secret  # holds CA keys and tokens: never logged, only piped to talosctl
    hash: str
    secrets: frozenset[str]
    redacted: list[Any]


def config_endpoint(desired: Desired, current: str | None) -> str:
    """The control-plane endpoint machine configs name: the VIP once the runner switched to it, else the first
    controller (the VIP does not exist before kube-vip runs in a bootstrapped cluster)."""
    return desired.vip_endpoint if current == desired.vip_endpoint else desired.initial_endpoint


def node_configs(
    cluster: Cluster, desired: Desired, secrets: ClusterSecrets, bundle: SecretsBundle, endpoint: str | None = None
) -> dict[str, NodeConfig]:
    controllers = tuple(n.ip for n in desired.controllers)
    out: dict[str, NodeConfig] = {}
    for dn in desired.nodes:
        node = MachineConfigInput(
            cluster_name=cluster.name,
            name=dn.name,
            role=dn.role,  # type: ignore[arg-type]
            ip=dn.ip,
            prefixlen=cluster.network.cidr.prefixlen,
            gateway=str(cluster.network.gateway),
            nameservers=tuple(str(n) for n in cluster.network.nameservers),
            interface=cluster.network.interface,
            install_disk=cluster.talos.install_disk,
            installer_image=dn.installer_image,
            talos_version=dn.talos_version,
            kubernetes_version=dn.kubernetes_version,
            cluster_endpoint=endpoint or desired.initial_endpoint,
            vip=desired.vip,
            controller_ips=controllers,
            tailscale_login_server=cluster.tailscale.login_server if cluster.tailscale else None,
            tailscale_auth_key=secrets.tailscale_auth_key if cluster.tailscale else None,
        )
        docs = machine_config(node, bundle)
        out[dn.name] = NodeConfig(
            Secret(render_documents(docs)), config_hash(docs), frozenset(secret_strings(docs)), redacted(docs)
        )
    return out


def with_config_hashes(desired: Desired, configs: dict[str, NodeConfig]) -> Desired:
    nodes = tuple(
        dataclasses.replace(n, config_hash=configs[n.name].hash, config_redacted=configs[n.name].redacted)
        for n in desired.nodes
    )
    return dataclasses.replace(desired, nodes=nodes)
