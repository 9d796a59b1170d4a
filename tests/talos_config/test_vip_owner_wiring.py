"""`network.vipOwner` reaches the machine configs: Talos's own VIP only when the spec gives it to Talos."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.core.cluster_secrets import ClusterSecrets
from runner.core.derive import derive
from runner.core.loader import load_cluster
from runner.core.secret import Secret
from runner.core.talos import bundle_from_yaml, parse_machine_config
from runner.engine.reconcile.configs import node_configs

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(("owner", "talos_holds_it"), [("kube-vip", False), ("talos", True)])
def test_the_vip_owner_decides_whether_controllers_carry_a_layer2_vip(owner: str, talos_holds_it: bool) -> None:
    text = (ROOT / "tests/spec/valid/talos_1_12_kubernetes_1_34.yaml").read_text()
    text = text.replace("vip: 10.1.0.20}", f"vip: 10.1.0.20, vipOwner: {owner}}}")
    text += "  - {name: w1, role: worker, ip: 10.1.0.21, vmid: 402}\n"
    cluster, _ = load_cluster(text, "cluster.yaml")
    assert cluster.network.vip_owner == owner
    bundle = bundle_from_yaml((ROOT / "tests/data/talos-secrets-bundle.yaml").read_text())
    secrets = ClusterSecrets("runner@pve!runner", Secret("token"), None, None, None, None)
    configs = node_configs(cluster, derive(cluster), secrets, bundle)
    for node in cluster.nodes:
        kinds = [d.get("kind", "v1alpha1") for d in parse_machine_config(configs[node.name].text.reveal())]
        expected = talos_holds_it and node.role == "controlplane"
        assert ("Layer2VIPConfig" in kinds) is expected, node.name
