"""etcd as etcd behaves: a rebooted member is listed but not healthy until it started again, and nothing in the
twin keeps quorum for the runner: two of three controllers down and the cluster API stops answering."""

from __future__ import annotations

import pytest

from runner.core.errors import Transient
from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import Delays, TalosLab, TalosTwin, etcd_api, machineconfig, rpc
from tests.talos_nodes.conftest import Bundle, Clock, running, talosctl_as_runner, wait_until

CONTROLLERS = ("10.0.0.11", "10.0.0.12", "10.0.0.13")


def three_controllers(bundle: Bundle) -> tuple[TalosLab, Clock]:
    clock = Clock()
    lab = TalosLab(Delays(boot=1, install=1, reboot=1, etcd_start=5), clock=clock)
    for i, ip in enumerate(CONTROLLERS):
        node = lab.register(ip, f"cp{i}")
        node.config = machineconfig.load(bundle.config("controlplane", f"cp{i}"), node.version)
        node.installed, node.phase = True, "running"
    lab.add_member(lab.nodes[CONTROLLERS[0]])
    lab.advance()
    clock.now += 10  # the joiners start, catch up and are promoted
    lab.advance()
    return lab, clock


def test_all_three_healthy_after_they_joined(bundle: Bundle) -> None:
    lab, _ = three_controllers(bundle)
    assert all(lab.etcd_healthy(lab.nodes[ip]) for ip in CONTROLLERS)
    assert not lab.learners


def test_a_rebooted_member_is_unhealthy_for_a_while_after_boot(bundle: Bundle) -> None:
    lab, clock = three_controllers(bundle)
    node = lab.nodes[CONTROLLERS[1]]
    node.start_reboot(clock(), lab.delays)
    clock.now += 1.5
    lab.advance()
    assert node.phase == "running"
    assert lab.member_of(node) is not None  # still a member...
    assert not lab.etcd_healthy(node)  # ...but its etcd has not started yet
    assert lab.has_quorum(node.config.cluster_id)  # two of three still serve  # type: ignore[union-attr]
    clock.now += 5
    lab.advance()
    assert lab.etcd_healthy(node)


def test_two_of_three_down_loses_quorum_and_the_api_stops_answering(bundle: Bundle) -> None:
    lab, clock = three_controllers(bundle)
    first, second, third = (lab.nodes[ip] for ip in CONTROLLERS)
    first.start_reboot(clock(), lab.delays)
    clock.now += 1.5
    lab.advance()  # first is back but its etcd still starting...
    second.start_reboot(clock(), lab.delays)  # ...and the next controller goes down: nothing stops it
    lab.advance()
    assert not lab.has_quorum(third.config.cluster_id)  # type: ignore[union-attr]
    assert not lab.api_serving(third) and not lab.etcd_healthy(third)
    assert len(lab.quorum_losses) == 1
    clock.now += 10
    lab.advance()
    assert all(lab.api_serving(n) for n in (first, second, third))


def test_service_etcd_reports_health_through_talosctl(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    twin.lab.delays.etcd_start = 1.0
    running(twin, bundle, "10.0.0.11", "controlplane", "cp1")
    assert driver.etcd_healthy("10.0.0.11") is False  # not bootstrapped: etcd is still preparing
    driver.bootstrap("10.0.0.11")
    wait_until(lambda: driver.etcd_healthy("10.0.0.11"), "etcd healthy after its bootstrap", timeout=5)
    assert talosctl_as_runner(driver, "reboot", nodes=["10.0.0.11"]).returncode == 0
    wait_until(lambda: twin.phase("10.0.0.11") == "running", "back running")
    assert driver.etcd_healthy("10.0.0.11") is False  # running, listed, but not serving yet
    wait_until(lambda: driver.etcd_healthy("10.0.0.11"), "etcd healthy again", timeout=5)


def one_controller(bundle: Bundle) -> tuple[TalosLab, Clock]:
    clock = Clock()
    lab = TalosLab(Delays(etcd_start=5, etcd_bootstrap=3), clock=clock)
    node = lab.register(CONTROLLERS[0], "cp0")
    node.config = machineconfig.load(bundle.config("controlplane", "cp0"), node.version)
    node.installed, node.phase = True, "running"
    lab.advance()
    return lab, clock


def etcd_view(lab: TalosLab, ip: str) -> tuple[str, str, str]:
    """(service state, health, member list) as the node's API answers them."""
    node = lab.nodes[ip]
    (svc,) = etcd_api.service(lab, node, {"id": "etcd"})["services"]
    try:
        members = ",".join(m["hostname"] for m in etcd_api.members(lab, node, {})["members"])
    except rpc.RpcError as e:
        members = e.desc
    return svc["state"], svc["health"], members


def test_etcd_starts_slowly_after_bootstrap(bundle: Bundle) -> None:
    lab, clock = one_controller(bundle)
    ip = CONTROLLERS[0]
    assert etcd_view(lab, ip) == ("Preparing", "?", "context deadline exceeded")  # waiting to join: no etcd yet
    etcd_api.bootstrap(lab, lab.nodes[ip], {})
    lab.advance()
    assert etcd_view(lab, ip) == ("Preparing", "?", "context deadline exceeded")  # bootstrap mode, pre-start
    clock.now += 3
    lab.advance()
    assert etcd_view(lab, ip) == ("Running", "?", "context deadline exceeded")  # running, not serving yet
    clock.now += 5
    lab.advance()
    assert etcd_view(lab, ip) == ("Running", "OK", "cp0")


def test_bootstrap_is_refused_only_once_etcd_wrote_its_data(bundle: Bundle) -> None:
    lab, clock = one_controller(bundle)
    node = lab.nodes[CONTROLLERS[0]]
    etcd_api.bootstrap(lab, node, {})
    clock.now += 1
    lab.advance()
    etcd_api.bootstrap(lab, node, {})  # still Preparing, data directory empty: accepted, etcd restarts
    clock.now += 2.5
    lab.advance()
    assert etcd_view(lab, node.ip)[0] == "Preparing"  # the second call started the pre-start over
    clock.now += 1
    lab.advance()
    with pytest.raises(rpc.RpcError, match="etcd data directory is not empty") as refused:
        etcd_api.bootstrap(lab, node, {})
    assert refused.value.code == "AlreadyExists"
    assert lab.bootstrap_calls == [node.ip] * 3  # the twin counts every call a node received


def test_a_controller_joins_only_once_a_member_serves(bundle: Bundle) -> None:
    lab, clock = one_controller(bundle)
    joiner = lab.register(CONTROLLERS[1], "cp1")
    joiner.config = machineconfig.load(bundle.config("controlplane", "cp1"), joiner.version)
    joiner.installed, joiner.phase = True, "running"
    etcd_api.bootstrap(lab, lab.nodes[CONTROLLERS[0]], {})
    clock.now += 4
    lab.advance()
    assert lab.member_of(joiner) is None  # the first member runs but does not serve: nothing to join through
    clock.now += 5
    lab.advance()
    assert lab.member_of(joiner) is not None


def test_upgrade_waits_for_a_peer_that_is_still_starting(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle
) -> None:
    for i, ip in enumerate(CONTROLLERS[:3]):
        running(twin, bundle, ip, "controlplane", f"cp{i}")
    driver.bootstrap(CONTROLLERS[0])
    wait_until(lambda: len(driver.etcd_members(CONTROLLERS[0])) == 3, "three members")
    twin.lab.delays.etcd_start = 30.0  # from now on a booted member takes long to serve
    assert talosctl_as_runner(driver, "reboot", nodes=[CONTROLLERS[1]]).returncode == 0
    wait_until(lambda: twin.phase(CONTROLLERS[1]) == "running", "cp1 back")
    with pytest.raises(Transient, match="all members must be healthy to perform an upgrade"):
        driver.upgrade(CONTROLLERS[2], "ghcr.io/siderolabs/installer:v1.11.3")
