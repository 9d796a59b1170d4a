"""Test data for the Talos config tests: the reference nodes and the session bundles' parameters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runner.core.secret import Secret
from runner.core.talos import MachineConfigInput, SecretsBundle, bundle_from_yaml

DATA = Path(__file__).parent / "data"
# The fixture bundle was generated once by `generate_bundle(GENERATED_AT)`; see tests/data/README.md.
FIXTURE_BUNDLE = Path(__file__).parents[1] / "data" / "talos-secrets-bundle.yaml"
GENERATED_AT = datetime(2025, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)


def fixture_bundle() -> SecretsBundle:
    return bundle_from_yaml(FIXTURE_BUNDLE.read_text(encoding="utf-8"), source=FIXTURE_BUNDLE.name)


def read_data(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def load_yaml(name: str) -> Any:
    return YAML(typ="safe", pure=True).load(read_data(name))


def reference_nodes() -> list[MachineConfigInput]:
    spec = load_yaml("reference-cluster.yaml")
    cluster, nodes = spec["cluster"], spec["nodes"]
    controllers = tuple(n["ip"] for n in nodes if n["role"] == "controlplane")
    return [
        MachineConfigInput(
            cluster_name=cluster["name"],
            name=node["name"],
            role=node["role"],
            ip=node["ip"],
            prefixlen=cluster["prefixlen"],
            gateway=cluster["gateway"],
            nameservers=tuple(cluster["nameservers"]),
            interface=cluster["interface"],
            install_disk=cluster["installDisk"],
            installer_image=cluster["installerImage"],
            talos_version=cluster["talosVersion"],
            kubernetes_version=cluster["kubernetesVersion"],
            cluster_endpoint=cluster["endpoint"],
            vip=cluster["vip"],
            controller_ips=controllers,
            tailscale_login_server=cluster["tailscale"]["loginServer"],
            tailscale_auth_key=Secret(cluster["tailscale"]["authKey"]),
        )
        for node in nodes
    ]


REFERENCE_NODES = reference_nodes()
CONTROLLER = REFERENCE_NODES[0]
WORKER = REFERENCE_NODES[3]
WORKER_WITHOUT_TAILSCALE = replace(WORKER, tailscale_auth_key=None, tailscale_login_server=None)
