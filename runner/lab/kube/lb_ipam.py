"""Who gives a Service of type LoadBalancer its address: nobody, unless something in the cluster does.

A bare-metal cluster has no cloud controller, so `status.loadBalancer.ingress` stays empty (`<pending>`)
until an in-cluster implementation assigns one. The twin knows one: Cilium's LB IPAM (Cilium 1.16 and 1.20,
docs.cilium.io/en/v1.20/network/lb-ipam/), which runs inside the Cilium operator and is "always enabled but
dormant ... awoken when the first IP Pool is added". It assigns from `CiliumLoadBalancerIPPool` blocks
(`cidr`, or `start`/`stop` ranges, where no address is reserved; a CIDR's first and last are kept back
unless `allowFirstLastIPs`), skips disabled pools, honours `serviceSelector.matchLabels` (plus the
`io.kubernetes.service.name/namespace` keys), ignores Services whose `loadBalancerClass` it does not
handle, and records `io.cilium/lb-ipam-request-satisfied` on the Service.

L2 announcements (docs.cilium.io/en/v1.16/network/l2-announcements/) make an assigned address answer ARP;
they need `l2announcements.enabled=true` in the Cilium values and a `CiliumL2AnnouncementPolicy`. The twin
records which addresses are announced (the lab's view); Helm's wait only needs the address assigned.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from .catalog import Catalog
from .conditions import condition
from .controller import Controller
from .store import Store

# v2 is the storage version in Cilium 1.20 (its chart lists the pool at v2), which still serves v2alpha1;
# 1.16 serves v2alpha1 only.
POOLS = (("cilium.io/v2", "CiliumLoadBalancerIPPool"), ("cilium.io/v2alpha1", "CiliumLoadBalancerIPPool"))
L2_POLICY = ("cilium.io/v2alpha1", "CiliumL2AnnouncementPolicy")
CILIUM_CLASSES = (None, "io.cilium/l2-announcer", "io.cilium/bgp-control-plane")
SATISFIED = "io.cilium/lb-ipam-request-satisfied"
MANAGER = "cilium-operator"


def _addresses(block: dict[str, Any], allow_first_last: bool) -> Iterator[ipaddress.IPv4Address]:
    try:
        yield from _parsed(block, allow_first_last)
    except ValueError:
        return  # Cilium marks such a pool invalid and allocates nothing from it


def _parsed(block: dict[str, Any], allow_first_last: bool) -> Iterator[ipaddress.IPv4Address]:
    if block.get("cidr"):
        net = ipaddress.ip_network(block["cidr"], strict=False)
        if not isinstance(net, ipaddress.IPv4Network):
            return
        reserve = not allow_first_last and net.prefixlen < 31
        for address in net:
            if reserve and address in (net.network_address, net.broadcast_address):
                continue
            yield address
    elif block.get("start"):
        start = ipaddress.IPv4Address(block["start"])
        stop = ipaddress.IPv4Address(block.get("stop") or block["start"])
        for value in range(int(start), int(stop) + 1):
            yield ipaddress.IPv4Address(value)


def _selects(selector: dict[str, Any] | None, service: dict[str, Any]) -> bool:
    if not selector:
        return True
    meta = service["metadata"]
    labels = {
        **(meta.get("labels") or {}),
        "io.kubernetes.service.name": meta["name"],
        "io.kubernetes.service.namespace": meta.get("namespace", ""),
    }
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def ingress_ips(service: dict[str, Any]) -> list[str]:
    return [
        i["ip"] for i in ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or [] if "ip" in i
    ]


class LbIpam(Controller):
    def __init__(self, store: Store, catalog: Catalog, events: list[str]) -> None:
        super().__init__(store, catalog, events)
        self.l2_enabled = False  # the Cilium release's `l2announcements.enabled`
        self.announced: dict[str, str] = {}  # address -> namespace/name of the Service

    def reconcile(self, cilium_running: bool) -> None:
        svc_rt = self.catalog.by_kind("v1", "Service")
        pool_rt = next((rt for rt in (self.catalog.by_kind(*p) for p in POOLS) if rt is not None), None)
        assert svc_rt is not None
        if not cilium_running or pool_rt is None:
            return
        pools = [p for p in self.store.list(pool_rt, None) if not (p.get("spec") or {}).get("disabled")]
        if not pools:
            return  # dormant until the first pool exists
        services = [
            s
            for s in self.store.list(svc_rt, None)
            if (s.get("spec") or {}).get("type") == "LoadBalancer"
            and (s.get("spec") or {}).get("loadBalancerClass") in CILIUM_CLASSES
        ]
        used = {ip for s in services for ip in ingress_ips(s)}
        for service in services:
            if ingress_ips(service):
                continue
            address = self._free(pools, service, used)
            meta = service["metadata"]
            status = dict(service.get("status") or {})
            previous = status.get("conditions")
            if address is None:
                why = "There are no enabled CiliumLoadBalancerIPPools that match this service"
                status["conditions"] = condition(previous, "False", "no_pool", why, meta["generation"], SATISFIED)
            else:
                used.add(address)
                status["loadBalancer"] = {"ingress": [{"ip": address, "ipMode": "VIP"}]}
                status["conditions"] = condition(previous, "True", "satisfied", "", meta["generation"], SATISFIED)
                self.events.append(f"Service/{meta['namespace']}/{meta['name']} got {address}")
            self.store.set_status(svc_rt, meta["namespace"], meta["name"], status)
        self._announce(services)

    def _free(self, pools: list[dict[str, Any]], service: dict[str, Any], used: set[str]) -> str | None:
        for pool in pools:
            spec = pool.get("spec") or {}
            if not _selects(spec.get("serviceSelector"), service):
                continue
            allow = str(spec.get("allowFirstLastIPs", "No")).lower() == "yes"
            for block in spec.get("blocks") or []:
                for address in _addresses(block, allow):
                    if str(address) not in used:
                        return str(address)
        return None

    def _announce(self, services: list[dict[str, Any]]) -> None:
        policy_rt = self.catalog.by_kind(*L2_POLICY)
        policies = self.store.list(policy_rt, None) if policy_rt is not None and self.l2_enabled else []
        announced: dict[str, str] = {}
        svc_rt = self.catalog.by_kind("v1", "Service")
        assert svc_rt is not None
        for service in self.store.list(svc_rt, None):
            meta = service["metadata"]
            for policy in policies:
                spec = policy.get("spec") or {}
                if spec.get("loadBalancerIPs") and _selects(spec.get("serviceSelector"), service):
                    for ip in ingress_ips(service):
                        announced[ip] = f"{meta['namespace']}/{meta['name']}"
        self.announced = announced
