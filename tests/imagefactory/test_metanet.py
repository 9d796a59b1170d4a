"""META key 0x0a: the static network config a node boots with, in Talos' PlatformNetworkConfig format."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from runner.core.metanet import meta_network_config
from runner.core.schematic import node_schematic, parse_schematic, schematic_yaml
from tests.imagefactory.conftest import DATA

CP01 = {
    "hostname": "talos-cp-01",
    "ip": "10.0.0.11",
    "prefixlen": 16,
    "gateway": "10.0.0.1",
    "nameservers": ["1.1.1.1", "8.8.8.8"],
    "interface": "eth0",
}


def test_talos_cp_01_matches_the_scenario_file() -> None:
    assert meta_network_config(**CP01) == (DATA / "talos-cp-01.meta.yaml").read_text()


def test_every_resource_is_on_the_platform_layer() -> None:
    doc = YAML(typ="safe").load(meta_network_config(**CP01))
    assert doc["addresses"][0]["address"] == "10.0.0.11/16"
    assert doc["routes"][0]["gateway"] == "10.0.0.1" and doc["routes"][0]["dst"] == ""
    assert doc["resolvers"][0]["dnsServers"] == ["1.1.1.1", "8.8.8.8"]
    layered = [item for key in ("addresses", "links", "routes", "hostnames", "resolvers") for item in doc[key]]
    assert {item["layer"] for item in layered} == {"platform"}


def test_node_schematic_carries_it_in_meta_key_10() -> None:
    meta = meta_network_config(**CP01)
    schematic = node_schematic(["siderolabs/qemu-guest-agent", "siderolabs/tailscale"], meta)
    parsed = parse_schematic(schematic_yaml(schematic))
    assert [(m.key, m.value) for m in parsed.customization.meta] == [(10, meta)]
    assert parsed.extensions == ("siderolabs/qemu-guest-agent", "siderolabs/tailscale")


def test_nodes_differ_only_by_their_own_addresses() -> None:
    other = meta_network_config(**{**CP01, "hostname": "talos-cp-02", "ip": "10.0.0.12"})
    diff = set(meta_network_config(**CP01).splitlines()) ^ set(other.splitlines())
    assert diff == {
        "    - address: 10.0.0.11/16",
        "    - address: 10.0.0.12/16",
        "    - hostname: talos-cp-01",
        "    - hostname: talos-cp-02",
    }


def test_ipv6_and_fqdn() -> None:
    doc = YAML(typ="safe").load(
        meta_network_config("node.lab.example", "fd00::11", 64, "fd00::1", ["fd00::53"], "enp1s0")
    )
    assert doc["addresses"][0]["family"] == "inet6"
    assert doc["hostnames"][0] == {"hostname": "node", "domainname": "lab.example", "layer": "platform"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gateway": "192.168.1.1"}, "not in 10.0.0.0/16"),
        ({"interface": ""}, "interface"),
        ({"ip": "10.0.0"}, "does not appear to be an IPv4 or IPv6"),
    ],
)
def test_inconsistent_input_is_refused(change: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        meta_network_config(**{**CP01, **change})
