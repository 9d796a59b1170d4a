"""What a pod can reach before the cluster network exists.

- **The API server.** In-cluster clients (client-go's rest.InClusterConfig) dial $KUBERNETES_SERVICE_HOST:
  $KUBERNETES_SERVICE_PORT, which the kubelet sets to the `kubernetes` Service's ClusterIP (10.96.0.1:443).
  A ClusterIP is a virtual address: only kube-proxy (or Cilium's kube-proxy replacement) makes it route.
  On this cluster kube-proxy is disabled, so until Cilium runs the dial times out and the controller exits
  (CrashLoopBackOff, never Ready). A container that sets the variables itself to KubePrism
  (localhost:7445, served by Talos on every node) reaches the API with no Service routing at all.
- **Cluster DNS.** `ClusterFirst` (on the pod network) and `ClusterFirstWithHostNet` put the kube-dns
  ClusterIP in resolv.conf: nothing answers until CoreDNS runs, and CoreDNS needs the CNI. Once it runs it
  answers `<service>.<namespace>.svc.cluster.local` (and the short forms the pod's search path makes of it)
  and forwards other names. `Default` (and `ClusterFirst` on the host network, which falls back to it) uses
  the node's resolver: on Talos the host DNS cache at 127.0.0.53, which forwards every query to the upstream
  servers. It resolves external names from the first boot, and never a cluster name, CoreDNS or not.
"""

from __future__ import annotations

import ipaddress
from typing import Any

API_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
HOST_DNS = "127.0.0.53"  # Talos `machine.features.hostDNS`, the node's resolver
CLUSTER_DOMAIN = "cluster.local"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: str(e.get("value", "")) for e in container.get("env") or [] if "name" in e}


def api_unreachable(pod: dict[str, Any], services_route: bool, kubeprism_port: int | None) -> str | None:
    """Why a container of this pod cannot reach the API server, or None (it can, or it never tries)."""
    if pod.get("automountServiceAccountToken") is False:
        return None
    for container in pod.get("containers") or []:
        env = _env(container)
        host = env.get("KUBERNETES_SERVICE_HOST")
        port = env.get("KUBERNETES_SERVICE_PORT", "443")
        if host is None or host == API_SERVICE_IP:
            if not services_route:
                return (
                    f'container "{container["name"]}": dial tcp {API_SERVICE_IP}:443: i/o timeout '
                    "(ClusterIP Services do not route: no kube-proxy and no CNI yet)"
                )
            continue
        if host in LOCAL_HOSTS and not (kubeprism_port is not None and port == str(kubeprism_port)):
            return f'container "{container["name"]}": dial tcp {host}:{port}: connect: connection refused'
    return None


def uses_cluster_dns(pod: dict[str, Any]) -> bool:
    policy = pod.get("dnsPolicy") or "ClusterFirst"
    if policy == "ClusterFirstWithHostNet":
        return True
    if policy == "ClusterFirst":
        return not pod.get("hostNetwork")
    return False  # Default (the node's resolver) or None (the pod's own dnsConfig)


def needs_dns(url: str) -> str | None:
    """The host name a URL makes the client resolve, or None for an IP literal."""
    rest = url.split("://", 1)[-1]
    rest = rest.split("@", 1)[-1] if "@" in rest.split("/", 1)[0] else rest
    host = rest.split("/", 1)[0]
    if host.startswith("["):
        return None
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if ":" in host and host.count(":") != 1:
        return None  # a bare IPv6 address
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host or None
    return None


def cluster_name(host: str, namespace: str) -> tuple[str, str] | None:
    """(namespace, service) a name means to cluster DNS: `<svc>.<ns>.svc.cluster.local`, or a short form the
    pod's search path (`<ns>.svc.cluster.local svc.cluster.local cluster.local`) completes; None otherwise."""
    name = host.rstrip(".")
    labels = name.split(".")
    if name.endswith(f".svc.{CLUSTER_DOMAIN}") and len(labels) == 5:
        return labels[1], labels[0]
    if host.endswith(".") or name.endswith(CLUSTER_DOMAIN):
        return None
    if len(labels) == 3 and labels[2] == "svc":
        return labels[1], labels[0]
    if len(labels) <= 2:
        return (labels[1], labels[0]) if len(labels) == 2 else (namespace, labels[0])
    return None


def lookup_error(host: str, pod: dict[str, Any], namespace: str, cluster_dns_answers: bool) -> str | None:
    """Why the pod's resolver finds no address for `host` (None: it resolves, or needs no lookup). A short name
    that is no Service falls through to the upstream servers, which the lab cannot ask: it counts as found."""
    if host in LOCAL_HOSTS or needs_dns(f"http://{host}/") is None:
        return None
    if not uses_cluster_dns(pod):
        if host.rstrip(".").endswith(CLUSTER_DOMAIN) or "." not in host.rstrip("."):
            return f"dial tcp: lookup {host} on {HOST_DNS}:53: no such host"
        return None
    if not cluster_dns_answers:
        return f"dial tcp: lookup {host} on {DNS_SERVICE_IP}:53: read udp: i/o timeout"
    return None
