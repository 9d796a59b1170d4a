"""Step handlers against scripted drivers (no lab): the order of calls is the behaviour under test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.core.derive import Desired, derive
from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.core.spec import Cluster
from runner.core.steps import Kind, Plan, Step
from runner.core.validate import validate_text
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.reconcile.configs import NodeConfig
from runner.engine.reconcile.executor import execute
from runner.engine.reconcile.handlers import StepRunner
from runner.engine.reconcile.outcome import NullReporter
from tests.engine.scripted import ScriptedConnections, ScriptedFactory, ScriptedProxmox, ScriptedTalos

ROOT = Path(__file__).parents[2]
CONTROLLERS = ("10.0.0.11", "10.0.0.12", "10.0.0.13")


def reference(talos: str | None = None) -> tuple[Cluster, Desired]:
    text = (ROOT / "clusters/home/cluster.yaml").read_text()
    if talos is not None:
        text = text.replace("talos:\n  version: v1.11.2", f"talos:\n  version: {talos}")
    cluster, _ = validate_text(text, "clusters/home/cluster.yaml")
    return cluster, derive(cluster)


def runner_with(
    health: dict[str, list[bool]] | None = None, talos_version: str | None = None
) -> tuple[StepRunner, ScriptedTalos, ScriptedProxmox]:
    cluster, desired = reference(talos_version)
    factory = ScriptedFactory()
    talos = ScriptedTalos(CONTROLLERS, factory, health_script=health or {})
    proxmox = ScriptedProxmox(talos, {dn.vm.vmid: dn.ip for dn in desired.nodes})
    conns: Any = ScriptedConnections(talos, proxmox, factory)
    runner = StepRunner(
        cluster,
        desired,
        conns,
        {},
        store=None,
        flux_key=lambda: None,
        handoff=False,
        log=lambda _: None,  # type: ignore[arg-type]
    )
    return runner, talos, proxmox


def step(kind: Kind, node: str, **params: Any) -> Step:
    return Step(f"node/{node}/{kind.value}", kind, f"node/{node}", "test", params={"node_name": node, **params})


def test_reboot_of_a_controller_finishes_only_once_its_etcd_is_healthy_again() -> None:
    runner, talos, proxmox = runner_with({"10.0.0.12": [False, False, True]})
    assert runner(step(Kind.REBOOT_VM, "talos-cp-02")) == "rebooted, healthy again"
    assert proxmox.calls == [("reboot_vm", 301)]
    health = [c for c in talos.calls if c == ("etcd_healthy", "10.0.0.12")]
    assert len(health) == 3, talos.calls  # asked until it said yes: running and listed were not enough


def test_a_controller_whose_etcd_never_recovers_stops_the_step_naming_it() -> None:
    runner, _, _ = runner_with({"10.0.0.12": [False]})
    with pytest.raises(Permanent, match=r"etcd on talos-cp-02 healthy with all 3 controllers: not reached"):
        runner(step(Kind.REBOOT_VM, "talos-cp-02"))


def test_a_worker_reboot_does_not_ask_etcd() -> None:
    runner, talos, _ = runner_with()
    runner(step(Kind.REBOOT_VM, "talos-worker-01"))
    assert not [c for c in talos.calls if c[0].startswith("etcd")]


def test_upgrade_registers_the_schematic_before_the_node_pulls_its_installer() -> None:
    runner, talos, _ = runner_with()
    dn = runner.desired.node("talos-cp-01")
    result = runner(step(Kind.UPGRADE_TALOS, "talos-cp-01", image=dn.installer_image))
    assert result == f"upgraded to {dn.talos_version}"
    assert dn.schematic_id in talos.factory.known
    assert ("upgrade", "10.0.0.11") in talos.calls


def test_upgrade_waits_for_etcd_health_before_it_finishes() -> None:
    runner, talos, _ = runner_with({"10.0.0.11": [False, True]})
    dn = runner.desired.node("talos-cp-01")
    runner(step(Kind.UPGRADE_TALOS, "talos-cp-01", image=dn.installer_image))
    after = talos.calls[talos.calls.index(("upgrade", "10.0.0.11")) :]
    assert after.count(("etcd_healthy", "10.0.0.11")) == 2


def test_a_node_that_never_answers_at_its_address_fails_naming_the_node_and_the_link() -> None:
    """A node whose NIC is not the link META names never brings its address up: the wait says where to look."""
    runner, talos, _ = runner_with()
    talos.stages["10.0.0.21"] = "unreachable"
    runner.configs["talos-worker-01"] = NodeConfig(Secret("machine: {}"), "hash", frozenset(), [])
    with pytest.raises(Permanent) as info:
        runner(step(Kind.APPLY_CONFIG, "talos-worker-01", insecure=True))
    message = str(info.value)
    assert message.startswith("talos-worker-01 (10.0.0.21) reaching maintenance or running")
    assert "configured on link eth0" in message and "not reached within 2s" in message
    assert ("apply_config", "10.0.0.21") not in talos.calls


# A config naming the VIP, as small as the Talos schema allows (the handler checks it before sending).
VIP_CONFIG = "version: v1alpha1\ncluster:\n  controlPlane:\n    endpoint: https://10.0.0.20:6443\n"


def test_moving_the_endpoint_reapplies_the_vip_config_without_a_reboot() -> None:
    runner, talos, _ = runner_with()
    runner.endpoint_configs["talos-worker-01"] = NodeConfig(Secret(VIP_CONFIG), "vip-hash", frozenset(), [])
    result = runner(step(Kind.MOVE_ENDPOINT, "talos-worker-01", endpoint="https://10.0.0.20:6443"))
    assert result == "control-plane endpoint is now https://10.0.0.20:6443 (applied without a reboot)"
    assert talos.applied == [("10.0.0.21", "no-reboot", VIP_CONFIG)]


def test_a_vip_that_never_answers_fails_the_switch_naming_it_and_the_endpoint_stays(tmp_path: Path) -> None:
    runner, talos, _ = runner_with()
    desired = runner.desired
    runner.store = ClusterStateStore(tmp_path / "state.db")
    runner.store.set_endpoint("home", desired.initial_endpoint)
    runner.conns.kube_api.ready = False  # kube-vip never took the address
    runner.conns.settings.flux_timeout = 0.05
    runner.endpoint_configs["talos-worker-01"] = NodeConfig(Secret(VIP_CONFIG), "vip-hash", frozenset(), [])
    switch = Step(
        "cluster/endpoint", Kind.SWITCH_ENDPOINT, "cluster", "switch", params={"endpoint": desired.vip_endpoint}
    )
    move = step(Kind.MOVE_ENDPOINT, "talos-worker-01", endpoint=desired.vip_endpoint)
    plan = Plan(
        "home", (switch, Step(move.id, move.kind, move.target, "move", ("cluster/endpoint",), params=move.params))
    )

    result = execute(plan, runner, NullReporter())

    assert (result.failed_step, result.statuses[move.id]) == ("cluster/endpoint", "skipped")
    assert result.error == f"the VIP {desired.vip} answering: not reached within 0s"
    assert runner.conns.kube_endpoints == [desired.vip_endpoint] and runner.conns.kube_api.asked >= 1
    assert runner.store.get("home").endpoint == desired.initial_endpoint  # the recorded endpoint did not move
    assert talos.applied == []  # and no node was told to use the VIP


# A config written for Talos v1.12: the network is its own documents, which v1.11 does not know.
V1_12_CONFIG = (
    "version: v1alpha1\nmachine: {}\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nhostname: talos-worker-01\n"
)


def test_a_config_is_checked_against_the_talos_the_node_runs_and_not_sent_when_that_one_cannot_read_it() -> None:
    runner, talos, _ = runner_with(talos_version="v1.12.11")
    talos.versions["10.0.0.21"] = "v1.11.6"  # the upgrade to the spec's v1.12 has not happened yet
    runner.configs["talos-worker-01"] = NodeConfig(Secret(V1_12_CONFIG), "hash", frozenset(), [])
    with pytest.raises(Permanent) as info:
        runner(step(Kind.APPLY_CONFIG, "talos-worker-01", insecure=False))
    assert str(info.value) == (
        "machine config of talos-worker-01 (the node runs Talos v1.11.6) document 2 (Talos v1.11 schema): "
        "<document>: kind 'HostnameConfig' is not a document Talos v1.11 knows"
    )
    assert ("apply_config", "10.0.0.21") not in talos.calls


def test_the_same_config_is_sent_once_the_node_runs_the_version_it_was_written_for() -> None:
    runner, talos, _ = runner_with(talos_version="v1.12.11")
    talos.versions["10.0.0.21"] = "v1.12.11"
    runner.configs["talos-worker-01"] = NodeConfig(Secret(V1_12_CONFIG), "hash", frozenset(), [])
    assert runner(step(Kind.APPLY_CONFIG, "talos-worker-01", insecure=False)) == "config applied"
    assert talos.applied == [("10.0.0.21", "auto", V1_12_CONFIG)]
