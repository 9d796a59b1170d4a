"""The per-node static network config Talos reads from META key 0x0a on the `metal` platform.

Talos unmarshals the value into `runtime.PlatformNetworkConfig` (internal/app/machined/pkg/runtime/
platform.go) and applies it as `layer: platform` resources, so a node boots straight to its address with
no DHCP. The document is written the way Talos itself marshals that struct (field order and zero values
of network.AddressSpecSpec, LinkSpecSpec, RouteSpecSpec, HostnameSpecSpec, ResolverSpecSpec, as in the
platform test fixtures, e.g. platform/openstack/testdata/expected.yaml), so it is both accepted by Talos
and byte-stable: the schematic id of every node depends on these bytes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from runner.core.schematic.goyaml import dump

DEFAULT_ROUTE_METRIC = 1024  # network.DefaultRouteMetric, what Talos platforms give their routes
PLATFORM = "platform"
# Talos >= 1.5 names links predictably (enp6s18 for net0 of a Proxmox q35 VM) unless the kernel has
# net.ifnames=0 ("Predictable Interface Names"). META 0xa can only name a link, not select one by MAC, so every
# image the runner builds boots with net.ifnames=0 and its single NIC is eth0: the one name both META and the
# machine config can rely on before the node has ever booted. Talos keeps the argument over installs/upgrades.
NODE_KERNEL_ARGS = ("net.ifnames=0",)
NIC_NAME = "eth0"  # the kernel's name for the first (only) NIC with net.ifnames=0


def _family(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return "inet4" if addr.version == 4 else "inet6"


def platform_network_config(
    hostname: str,
    ip: str,
    prefixlen: int,
    gateway: str,
    nameservers: Iterable[str],
    interface: str,
) -> dict[str, Any]:
    """The PlatformNetworkConfig tree for one statically addressed node on one link."""
    address = ipaddress.ip_interface(f"{ip}/{prefixlen}")
    gw = ipaddress.ip_address(gateway)
    if gw.version != address.version or gw not in address.network:
        raise ValueError(f"gateway {gateway} is not in {address.network} (address {address} of {hostname})")
    servers = [ipaddress.ip_address(s) for s in nameservers]
    if not interface:
        raise ValueError("interface name must not be empty")
    host, _, domain = hostname.partition(".")
    return {
        "addresses": [
            {
                "address": str(address),
                "linkName": interface,
                "family": _family(address.ip),
                "scope": "global",
                "flags": "permanent",
                "layer": PLATFORM,
            }
        ],
        # A physical link: only brought up; zero values as Talos marshals them (type 0 prints as netrom).
        "links": [
            {
                "name": interface,
                "logical": False,
                "up": True,
                "mtu": 0,
                "kind": "",
                "type": "netrom",
                "layer": PLATFORM,
            }
        ],
        "routes": [
            {
                "family": _family(gw),
                "dst": "",  # the default route
                "src": "",
                "gateway": str(gw),
                "outLinkName": interface,
                "table": "main",
                "priority": DEFAULT_ROUTE_METRIC,
                "scope": "global",
                "type": "unicast",
                "flags": "",
                "protocol": "static",
                "layer": PLATFORM,
            }
        ],
        "hostnames": [{"hostname": host, "domainname": domain, "layer": PLATFORM}],
        "resolvers": [{"dnsServers": [str(s) for s in servers], "layer": PLATFORM}] if servers else [],
        "timeServers": [],
        "operators": [],
        "externalIPs": [],
    }


def meta_network_config(
    hostname: str,
    ip: str,
    prefixlen: int,
    gateway: str,
    nameservers: Iterable[str],
    interface: str = NIC_NAME,
) -> str:
    """YAML for META key 0x0a: address ip/prefixlen on `interface`, default route, hostname, resolvers."""
    return dump(platform_network_config(hostname, ip, prefixlen, gateway, nameservers, interface))
