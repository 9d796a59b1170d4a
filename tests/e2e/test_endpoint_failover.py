"""The cluster outlives its first controller: once the VIP answers, every machine config names the VIP, so a
node that joins with talos-cp-01 gone still reaches the API (through KubePrism, as Talos's kubelet does)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runner.cli.lab.session import LabSession
from runner.engine.reconcile.source import DirSource

from .conftest import bootstrap
from .labkit import CLUSTER_YAML, EXPECTED_ENDPOINT, add_node, ready_kube_nodes, talos_phases, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("endpoint-failover")]

NEW_WORKER = {"name": "talos-worker-03", "role": "worker", "ip": "10.0.0.23", "vmid": 305}


def test_with_the_first_controller_gone_a_new_node_still_joins(make_lab: Callable[..., LabSession]) -> None:
    session = make_lab()
    bootstrap(session)
    world, talos = session.world, session.world.talos.lab

    talos.power("10.0.0.11", False)  # talos-cp-01 hangs; its VM still "runs", nothing brings it back
    vip = world.gates["10.0.0.20:6443"]
    wait_until(lambda: vip.is_open() and not world.gates["10.0.0.11:6443"].is_open(), "the VIP without cp-01")
    # kube-vip's lease moved on, and no etcd member names the VIP: the configs keep it out of what etcd advertises
    wait_until(lambda: any("10.0.0.20" in n.held for n in talos.nodes.values() if n.ip != "10.0.0.11"), "a new holder")
    with talos.lock:
        members = [m for members in talos.etcd.values() for m in members.values()]
        assert {m.ip: m.peer_urls for m in members} == {m.ip: [f"https://{m.ip}:2380"] for m in members}
        assert talos.peer_update_errors == {}

    # The runner's next run would install the new worker with exactly this config.
    (session.clone / CLUSTER_YAML).write_text(add_node(session, NEW_WORKER))
    _, conns, desired, configs = session.engine.prepare(DirSource(session.clone), "home")
    dn = desired.node("talos-worker-03")
    with conns.image_factory() as factory:
        factory.ensure_schematic(dn.schematic)
    talos.register(dn.ip, dn.name, dn.talos_version)  # the image it boots is the spec's Talos
    talos.power(dn.ip, True)
    wait_until(lambda: talos_phases(session).get(dn.name) == "maintenance", "the new worker in maintenance")
    conns.talos.apply_config(dn.ip, configs[dn.name].text, insecure=True)
    wait_until(lambda: talos_phases(session).get(dn.name) == "running", "the new worker installed")

    wait_until(lambda: dn.name in ready_kube_nodes(session), "the new worker to join Kubernetes", timeout=15)
    with talos.lock:
        endpoints = {n.hostname: n.config.endpoint for n in talos.nodes.values() if n.config is not None}
    assert endpoints == dict.fromkeys(endpoints, EXPECTED_ENDPOINT), endpoints  # every node names the VIP
