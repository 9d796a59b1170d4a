"""Every node's machine config carries the topology Proxmox CSI places volumes by, valid for each Talos minor."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from talos_testdata import LATEST_PATCHES, nodes_at

from runner.core.cluster_secrets import ClusterSecrets
from runner.core.derive import derive
from runner.core.loader import load_cluster
from runner.core.secret import Secret
from runner.core.talos import bundle_from_yaml, machine_config, parse_machine_config
from runner.drivers.talos_schema import validate_documents
from runner.engine.reconcile.configs import node_configs

TOPOLOGY = (("topology.kubernetes.io/region", "atlas"), ("topology.kubernetes.io/zone", "atlas"))


@pytest.mark.parametrize("version", LATEST_PATCHES)
def test_topology_labels_join_the_role_labels_and_validate(bundle, version):
    for node in nodes_at(version):
        documents = machine_config(replace(node, node_labels=TOPOLOGY), bundle)
        validate_documents(documents, version, f"machine config of {node.name}")
        labels = documents[0]["machine"]["nodeLabels"]
        expected = dict(TOPOLOGY)
        if node.role == "controlplane":
            expected["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        assert labels == expected


def test_without_topology_a_worker_has_no_node_labels(bundle):
    worker = next(n for n in nodes_at("v1.11.6") if n.role == "worker")
    assert "nodeLabels" not in machine_config(worker, bundle)[0]["machine"]


def test_the_runner_labels_every_node_with_its_proxmox_node_as_region_and_zone():
    """Rendered as the runner renders clusters/home: the spec's Proxmox node is both (a standalone host)."""
    root = Path(__file__).parents[2]
    cluster, _ = load_cluster((root / "clusters/home/cluster.yaml").read_text(), "clusters/home/cluster.yaml")
    bundle = bundle_from_yaml((root / "tests/data/talos-secrets-bundle.yaml").read_text())
    secrets = ClusterSecrets("runner@pve!runner", Secret("token"), Secret("tskey-auth-k1"), None, None, None)
    configs = node_configs(cluster, derive(cluster), secrets, bundle)
    for node in cluster.nodes:
        labels = parse_machine_config(configs[node.name].text.reveal())[0]["machine"]["nodeLabels"]
        assert {k: v for k, v in labels.items() if k.startswith("topology.")} == dict(TOPOLOGY), node.name
