"""Which of a node's addresses Talos v1.11 advertises for etcd and gives the kubelet as its node IP.

A node's current addresses are those on its links: its own, and any another program put there (kube-vip
adds the control-plane VIP as a /32 to the link of the controller that leads). They are sorted by the
default `nodeAddressSortAlgorithm` v1, by address alone (`addressutil.ComparePrefixesLegacy`).

- etcd (`controllers/etcd/spec.go`): with `cluster.etcd.advertisedSubnets`, every current address those
  subnets select is advertised, each as a peer URL; without, the first routed one. Excluded are only the VIPs
  Talos itself manages (`machine.network.interfaces[].vip`, `controllers/etcd/config.go`).
- kubelet (`controllers/k8s/nodeip_config.go`, `nodeip.go`): `machine.kubelet.nodeIP.validSubnets` (default
  0.0.0.0/0 for an IPv4 service network), minus the pod and service subnets and Talos-managed VIPs; the first
  IPv4 (and IPv6) address left is the node IP.

Both filter with siderolabs/net `FilterIPs` (v0.4.0): the subnets are walked in order, a subnet adds the
addresses it contains, a `!subnet` removes from what was added before it, so a `!` only works after the
subnet it carves from.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def filter_ips(addresses: Sequence[Address], cidrs: Iterable[str]) -> list[Address]:
    """siderolabs/net FilterIPs: an invalid subnet raises ValueError (`failed to parse subnet`)."""
    result: list[Address] = []
    for cidr in cidrs:
        negative = cidr.startswith("!")
        network = ipaddress.ip_network(cidr.removeprefix("!"), strict=False)
        for ip in addresses:
            if ip.version != network.version or ip not in network:
                continue
            if not negative and ip not in result:
                result.append(ip)
            elif negative and ip in result:
                result.remove(ip)
    return result


def current(own: Iterable[str], held: Iterable[str]) -> list[Address]:
    """The node's addresses, deduplicated and in the v1 sort order."""
    return sorted({ipaddress.ip_address(a) for a in (*own, *held)}, key=lambda ip: (ip.version, int(ip)))


def _sections(documents: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    doc = next((d for d in documents if "kind" not in d), {})
    return (doc.get("machine") or {}), (doc.get("cluster") or {})


def talos_vips(documents: Sequence[dict[str, Any]]) -> list[str]:
    """The VIPs Talos manages itself: a `vip` on an interface or on one of its VLANs, and from v1.12 each
    Layer2VIPConfig document, whose `name` is the address (network/layer2_vip.go@v1.13.9 `VIP()`)."""
    machine, _ = _sections(documents)
    vips = []
    for device in (machine.get("network") or {}).get("interfaces") or []:
        for holder in (device, *(device.get("vlans") or [])):
            if (holder.get("vip") or {}).get("ip"):
                vips.append(str(holder["vip"]["ip"]))
    vips += [str(d["name"]) for d in documents if d.get("kind") == "Layer2VIPConfig" and d.get("name")]
    return vips


def etcd_advertised(documents: Sequence[dict[str, Any]], addresses: Sequence[Address]) -> list[Address]:
    _, cluster = _sections(documents)
    valid = [str(s) for s in (cluster.get("etcd") or {}).get("advertisedSubnets") or []]
    cidrs = [*(valid or ["0.0.0.0/0", "::/0"]), *(f"!{vip}" for vip in talos_vips(documents))]
    advertised = filter_ips(addresses, cidrs)
    return advertised if valid else advertised[:1]


def kubelet_node_ips(documents: Sequence[dict[str, Any]], addresses: Sequence[Address]) -> list[Address]:
    machine, cluster = _sections(documents)
    network = cluster.get("network") or {}
    valid = [str(s) for s in ((machine.get("kubelet") or {}).get("nodeIP") or {}).get("validSubnets") or []]
    if not valid:
        services = network.get("serviceSubnets") or ["10.96.0.0/12"]
        valid = ["::/0" if ":" in str(s) else "0.0.0.0/0" for s in services]
    excluded = [*(network.get("podSubnets") or []), *(network.get("serviceSubnets") or []), *talos_vips(documents)]
    picked: dict[int, Address] = {}
    for ip in filter_ips(addresses, [*valid, *(f"!{cidr}" for cidr in excluded)]):
        picked.setdefault(ip.version, ip)  # one IPv4 and one IPv6 address, the first of each
    return list(picked.values())
