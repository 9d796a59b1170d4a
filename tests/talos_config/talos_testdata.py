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
    every_node, nodes = spec["every_node"], spec["nodes"]
    shared = {
        **every_node,
        "nameservers": tuple(every_node["nameservers"]),
        "tailscale_auth_key": Secret(every_node["tailscale_auth_key"]),
        "controller_ips": tuple(n["ip"] for n in nodes if n["role"] == "controlplane"),
    }
    return [MachineConfigInput(**shared, **node) for node in nodes]


REFERENCE_NODES = reference_nodes()
CONTROLLER = REFERENCE_NODES[0]
WORKER = REFERENCE_NODES[3]
WORKER_WITHOUT_TAILSCALE = replace(WORKER, tailscale_auth_key=None, tailscale_login_server=None)

# The newest patch of each Talos minor the runner writes configs for (the tags the schemas are vendored from).
LATEST_PATCHES = ("v1.11.6", "v1.12.11", "v1.13.9")


def nodes_at(talos_version: str) -> list[MachineConfigInput]:
    """The reference nodes running `talos_version` (installer image of that version too)."""
    return [
        replace(
            node,
            talos_version=talos_version,
            installer_image=node.installer_image.rsplit(":", 1)[0] + ":" + talos_version,
        )
        for node in REFERENCE_NODES
    ]


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every dotted key path of a mapping (what a config sets), so two configs can be compared by field."""
    if isinstance(value, dict):
        found = set()
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            found |= {path} | key_paths(child, path)
        return found
    return set()
