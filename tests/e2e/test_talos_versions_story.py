"""A cluster started on each Talos minor the runner supports: its nodes boot that version's image, decode the
config as that version does (the network as documents of their own from v1.12) and reach the Flux hand-off."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runner.cli.lab.session import LabSession

from .labkit import (
    EXPECTED_ENDPOINT,
    bootstrap_at,
    etcd_member_ips,
    ready_kube_nodes,
)

pytestmark = [pytest.mark.e2e]

NODES = {"talos-cp-01", "talos-cp-02", "talos-cp-03", "talos-worker-01", "talos-worker-02"}


@pytest.mark.parametrize(("talos", "kubernetes"), [("v1.12.11", "v1.35.4"), ("v1.13.9", "v1.36.3")])
def test_a_cluster_on_a_newer_talos_bootstraps_with_that_versions_config(
    make_lab: Callable[..., LabSession], talos: str, kubernetes: str
) -> None:
    session = make_lab()
    bootstrap_at(session, talos, kubernetes)
    assert session.store.get("home").endpoint == EXPECTED_ENDPOINT

    lab = session.world.talos.lab
    with lab.lock:
        nodes = {node.hostname: node for node in lab.nodes.values()}
        assert {name: nodes[name].version for name in NODES} == dict.fromkeys(NODES, talos)
        for name in NODES:
            config = nodes[name].config
            assert config is not None
            kinds = [doc.get("kind", "v1alpha1") for doc in config.documents]
            assert kinds[:4] == ["v1alpha1", "HostnameConfig", "LinkConfig", "ResolverConfig"], name
            assert "network" not in config.documents[0]["machine"]
            assert config.hostname == name
    assert etcd_member_ips(session) == {"10.0.0.11", "10.0.0.12", "10.0.0.13"}
    assert ready_kube_nodes(session) == NODES
