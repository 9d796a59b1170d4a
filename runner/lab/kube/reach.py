"""Whether an HTTP request from one pod reaches a port of another, as the cluster network would decide.

First the name, by the caller's DNS policy (pod_network.lookup_error): the node's resolver never knows a
cluster name, cluster DNS answers only once CoreDNS runs. Then the address:
- `localhost` is the caller's own network namespace: the containers of its own pod, or, for a pod on the
  host network, every host-network pod of the same node (PodSpec `hostNetwork`: "use the host's network
  namespace");
- a Service name (cluster DNS) leads to its ClusterIP, which routes only through kube-proxy or Cilium, to
  the target port of its ready endpoints;
- a node's InternalIP leads to the host-network pods of that node.
Anything else (an external name, another IP) is not the target.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from . import pod_network
from .catalog import Catalog, ResourceType
from .cluster import ClusterSim
from .store import Store


def _ready(pod: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in (pod.get("status") or {}).get("conditions", [])
    )


def _selected(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class Reach:
    def __init__(self, store: Store, catalog: Catalog, cluster: ClusterSim) -> None:
        self.store, self.catalog, self.cluster = store, catalog, cluster

    def _rt(self, api_version: str, kind: str) -> ResourceType:
        rt = self.catalog.by_kind(api_version, kind)
        assert rt is not None
        return rt

    def unreachable(self, url: str, caller: dict[str, Any], target: dict[str, Any], port: int) -> str | None:
        """Why a request from pod `caller` to `url` does not land on `port` of pod `target`, or None."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        url_port = parts.port or (443 if parts.scheme == "https" else 80)
        namespace = caller["metadata"]["namespace"]
        lookup = pod_network.lookup_error(host, caller["spec"], namespace, self.cluster.cluster_dns_answers)
        if lookup:
            return lookup
        refused = f"dial tcp {host}:{url_port}: connect: connection refused"
        if host in pod_network.LOCAL_HOSTS:
            same_netns = caller["metadata"]["uid"] == target["metadata"]["uid"] or (
                caller["spec"].get("hostNetwork")
                and target["spec"].get("hostNetwork")
                and caller["spec"].get("nodeName") == target["spec"].get("nodeName")
            )
            return None if same_netns and url_port == port else refused
        service = pod_network.cluster_name(host, namespace) if pod_network.uses_cluster_dns(caller["spec"]) else None
        found = self.store.find(self._rt("v1", "Service"), service[0], service[1]) if service else None
        if found is not None:
            return self._through_service(found, host, url_port, target, port)
        if host.rstrip(".").endswith(pod_network.CLUSTER_DOMAIN):
            return f"dial tcp: lookup {host} on {pod_network.DNS_SERVICE_IP}:53: no such host"
        for node in self.store.list(self._rt("v1", "Node"), None):
            addresses = {a.get("address") for a in (node.get("status") or {}).get("addresses") or []}
            if host in addresses:
                on_node = (
                    target["spec"].get("hostNetwork") and target["spec"].get("nodeName") == node["metadata"]["name"]
                )
                return None if on_node and url_port == port else refused
        return f"dial tcp {host}:{url_port}: {host} is not the pod it was meant for"

    def _through_service(
        self, service: dict[str, Any], host: str, url_port: int, target: dict[str, Any], port: int
    ) -> str | None:
        if not self.cluster.services_route:
            why = "ClusterIP Services do not route: no kube-proxy and no CNI yet"
            return f"dial tcp {host}:{url_port}: i/o timeout ({why})"
        spec = service.get("spec") or {}
        entry = next((p for p in spec.get("ports") or [] if int(p.get("port", 0)) == url_port), None)
        selected = _selected(spec.get("selector") or {}, target["metadata"].get("labels") or {})
        if entry is None or not selected or not _ready(target):
            return f"dial tcp {host}:{url_port}: connect: connection refused"
        wanted = entry.get("targetPort", entry.get("port"))
        if isinstance(wanted, str):  # a named port: the target container's port of that name
            named = [p for c in target["spec"].get("containers") or [] for p in c.get("ports") or []]
            wanted = next((p["containerPort"] for p in named if p.get("name") == wanted), None)
        return None if wanted == port else f"dial tcp {host}:{url_port}: connect: connection refused"
