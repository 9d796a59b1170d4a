"""What a controller's etcd member advertises and which node IP its kubelet takes, picked from the node's addresses
(kube-vip's VIP among them while it leads) by the machine config's subnets, as Talos v1.11 picks them."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from runner.core.talos import MachineConfigInput, render_machine_config
from runner.lab.kube_vip import hold_vip
from runner.lab.talos import Delays, TalosLab, addresses, machineconfig
from runner.lab.talos.lab import PEER_URL_EXISTS
from tests.talos_config.talos_testdata import REFERENCE_NODES, fixture_bundle
from tests.talos_nodes.conftest import Bundle, Clock

VIP = "10.0.0.20"
CONTROLLERS = ("10.0.0.11", "10.0.0.12", "10.0.0.13")


# siderolabs/net v0.4.0 net_test.go TestFilterIPs, plus what its loop implies for a `!` placed first.
@pytest.mark.parametrize(
    ("ips", "cidrs", "expected"),
    [
        (["10.3.4.6", "2001:db8::1"], ["0.0.0.0/0", "::/0"], ["10.3.4.6", "2001:db8::1"]),
        (["10.3.4.6", "10.3.4.1", "172.20.0.1"], ["10.0.0.0/8", "!10.3.4.1/32"], ["10.3.4.6"]),
        (["10.3.4.6", "10.3.4.1", "172.20.0.1"], ["10.0.0.0/8", "!10.3.4.1"], ["10.3.4.6"]),
        (["10.3.4.6", "172.20.0.1"], ["10.0.0.0/8", "0.0.0.0/0"], ["10.3.4.6", "172.20.0.1"]),
        (["10.3.4.6", "10.3.4.1"], ["!10.3.4.1/32", "10.0.0.0/8"], ["10.3.4.6", "10.3.4.1"]),
    ],
)
def test_filter_ips_walks_the_subnets_in_order(ips: list[str], cidrs: list[str], expected: list[str]) -> None:
    assert [str(ip) for ip in addresses.filter_ips([ipaddress.ip_address(i) for i in ips], cidrs)] == expected


def _subnets(config: str, etcd: list[str], kubelet: list[str]) -> str:
    """A hand-written controller config with etcd's and the kubelet's subnets set."""
    etcd_yaml = "".join(f"            - '{s}'\n" for s in etcd)  # quoted: YAML reads a bare `!` as a tag
    kubelet_yaml = "".join(f"                - '{s}'\n" for s in kubelet)
    config = config.replace("    etcd:\n", f"    etcd:\n        advertisedSubnets:\n{etcd_yaml}", 1)
    return config.replace(
        "    kubelet:\n", f"    kubelet:\n        nodeIP:\n            validSubnets:\n{kubelet_yaml}", 1
    )


def _three_controllers(configs: list[str]) -> tuple[TalosLab, Clock]:
    clock = Clock()
    lab = TalosLab(Delays(boot=1, install=1, reboot=1, etcd_start=1), clock=clock)
    for i, (ip, config) in enumerate(zip(CONTROLLERS, configs, strict=True)):
        node = lab.register(ip, f"talos-cp-0{i + 1}")
        node.config = machineconfig.load(config, "v1.11.2")
        node.installed, node.phase = True, "running"
    assert lab.add_member(lab.nodes[CONTROLLERS[0]]) is not None
    lab.advance()
    clock.now += 5  # the others join, start and are promoted
    lab.advance()
    return lab, clock


def _peer_urls(lab: TalosLab) -> dict[str, list[str]]:
    return {m.ip: m.peer_urls for m in lab.members(next(iter(lab.etcd))).values()}


def _fail_over(lab: TalosLab, clock: Clock) -> str:
    """The VIP holder stops: kube-vip's lease moves to a controller whose API server still answers."""
    holder = hold_vip(lab, VIP, kube_vip_runs=True)
    assert holder is not None
    holder.power_off()
    new = hold_vip(lab, VIP, kube_vip_runs=True)
    assert new is not None and new is not holder
    clock.now += 1
    lab.advance()
    return new.ip


def _whole_cidr(bundle: Bundle, i: int, *excluded: str) -> str:
    config = bundle.config("controlplane", f"talos-cp-0{i + 1}")
    return _subnets(config, ["10.0.0.0/16", *excluded], ["10.0.0.0/16", *excluded])


def test_with_the_whole_network_advertised_the_vip_holders_member_names_the_vip(bundle: Bundle) -> None:
    lab, clock = _three_controllers([_whole_cidr(bundle, i) for i in range(3)])
    hold_vip(lab, VIP, kube_vip_runs=True)
    clock.now += 1
    lab.advance()
    assert _peer_urls(lab)["10.0.0.11"] == ["https://10.0.0.11:2380", f"https://{VIP}:2380"]
    new_holder = _fail_over(lab, clock)
    # the stopped member still names the VIP, so the next holder's member update is refused
    assert lab.peer_update_errors == {new_holder: PEER_URL_EXISTS}
    assert _peer_urls(lab)[new_holder] == [f"https://{new_holder}:2380"]


def test_a_vip_excluded_after_the_network_is_never_advertised(bundle: Bundle) -> None:
    configs = [_whole_cidr(bundle, i, f"!{VIP}/32") for i in range(3)]
    lab, clock = _three_controllers(configs)
    hold_vip(lab, VIP, kube_vip_runs=True)
    lab.advance()
    new_holder = _fail_over(lab, clock)
    assert lab.peer_update_errors == {}
    assert _peer_urls(lab)[new_holder] == [f"https://{new_holder}:2380"]


def test_the_kubelet_takes_the_first_address_its_subnets_allow(bundle: Bundle) -> None:
    lab, _ = _three_controllers([_whole_cidr(bundle, i) for i in range(3)])
    node = lab.nodes["10.0.0.11"]
    node.held = ("10.0.0.5",)  # a VIP that sorts before the node's own address
    assert lab.kubelet_node_ip(node) == "10.0.0.5"
    node.config = machineconfig.load(_whole_cidr(bundle, 0, "!10.0.0.5/32"), "v1.11.2")
    assert lab.kubelet_node_ip(node) == "10.0.0.11"


def test_a_vip_talos_manages_itself_is_never_advertised(bundle: Bundle) -> None:
    config = _whole_cidr(bundle, 0).replace(
        "        hostname: talos-cp-01\n",
        f"        hostname: talos-cp-01\n        interfaces:\n            - interface: eth0\n"
        f"              vip:\n                  ip: {VIP}\n",
    )
    documents = machineconfig.load(config, "v1.11.2").documents
    current = addresses.current(["10.0.0.11"], [VIP])
    assert [str(a) for a in addresses.etcd_advertised(documents, current)] == ["10.0.0.11"]
    assert [str(a) for a in addresses.kubelet_node_ips(documents, current)] == ["10.0.0.11"]


def _runner_controllers(vip: str = VIP) -> list[MachineConfigInput]:
    return [replace(n, vip=vip) for n in REFERENCE_NODES if n.role == "controlplane"]


def test_the_runners_configs_keep_the_vip_out_of_etcd_through_a_failover() -> None:
    bundle = fixture_bundle()
    lab, clock = _three_controllers([render_machine_config(n, bundle) for n in _runner_controllers()])
    hold_vip(lab, VIP, kube_vip_runs=True)
    clock.now += 1
    lab.advance()
    assert _peer_urls(lab) == {ip: [f"https://{ip}:2380"] for ip in CONTROLLERS}
    _fail_over(lab, clock)
    assert lab.peer_update_errors == {}


def test_the_runners_kubelet_takes_the_node_address_even_when_the_vip_sorts_first() -> None:
    bundle = fixture_bundle()
    lab, _ = _three_controllers([render_machine_config(n, bundle) for n in _runner_controllers("10.0.0.5")])
    node = lab.nodes["10.0.0.11"]
    node.held = ("10.0.0.5",)
    assert lab.kubelet_node_ip(node) == "10.0.0.11"
    assert lab.advertised(node) == ("10.0.0.11",)
