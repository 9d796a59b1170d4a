"""The kubeconfig (a cluster-admin client certificate) goes only to a node or the VIP of the connection targets.

Whatever endpoint a run is handed (the recorded one, a step's parameter, a pull request's spec), the engine's
Kubernetes connection refuses a host that is not one of the targets before it issues a credential for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from runner.core.cluster_secrets import parse_secrets
from runner.core.errors import Permanent
from runner.core.validate import validate_text
from runner.engine.reconcile.connection_targets import ConnectionTargets
from runner.engine.reconcile.target_settings import TargetSettings
from runner.engine.reconcile.targets import Connections

ROOT = Path(__file__).parents[2]


@pytest.fixture
def conns(tmp_path: Path) -> Connections:
    cluster, _ = validate_text((ROOT / "clusters/home/cluster.yaml").read_text(), "clusters/home/cluster.yaml")
    bundle = YAML(typ="safe").load((ROOT / "tests/data/talos-secrets-bundle.yaml").read_text())
    secrets = parse_secrets(
        {"proxmox": {"tokenId": "runner@pve!gitops", "tokenSecret": "not-a-real-secret"}, "talos": bundle}, "s.yaml"
    )
    # Every address, target or not, is mapped somewhere reachable: only the target check can refuse one.
    stranger_map = {f"{host}:6443": "127.0.0.1:9" for host in ("10.0.0.99", "10.0.0.11.example.org", "evil.test")}
    settings = TargetSettings(db_path=tmp_path / "state.db", address_map=stranger_map)
    return Connections(settings, ConnectionTargets.of(cluster), secrets)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://10.0.0.99:6443",  # an address of the cluster's network, but no node of the spec
        "https://10.0.0.11.example.org:6443",  # a name that starts like a node's address
        "https://evil.test:6443",
        "https://10.0.0.99",
    ],
)
def test_a_host_that_is_not_a_node_or_the_vip_gets_no_kubeconfig(conns: Connections, endpoint: str) -> None:
    host = endpoint.removeprefix("https://").split(":")[0]
    with pytest.raises(Permanent) as refused:
        conns.kube(endpoint)
    assert str(refused.value) == (
        f"refusing to send the kubeconfig to {host}: not a node or VIP of the connection targets"
    )


@pytest.mark.parametrize("endpoint", ["https://10.0.0.11:6443", "https://10.0.0.20:6443", "https://10.0.0.22:6443"])
def test_a_node_or_the_vip_gets_a_client(conns: Connections, endpoint: str) -> None:
    client = conns.kube(endpoint)  # a client is made; nothing is contacted until it is used
    client.close()
