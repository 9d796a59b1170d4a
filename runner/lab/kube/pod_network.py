"""What a pod can reach before the cluster network exists.

- **The API server.** In-cluster clients (client-go's rest.InClusterConfig) dial $KUBERNETES_SERVICE_HOST:
  $KUBERNETES_SERVICE_PORT, which the kubelet sets to the `kubernetes` Service's ClusterIP (10.96.0.1:443).
  A ClusterIP is a virtual address: only kube-proxy (or Cilium's kube-proxy replacement) makes it route.
  On this cluster kube-proxy is disabled, so until Cilium runs the dial times out and the controller exits
  (CrashLoopBackOff, never Ready). A container that sets the variables itself to KubePrism
  (localhost:7445, served by Talos on every node) reaches the API with no Service routing at all.
- **Cluster DNS.** `ClusterFirst` (on the pod network) and `ClusterFirstWithHostNet` put the kube-dns
  ClusterIP in resolv.conf: nothing answers until CoreDNS runs, and CoreDNS needs the CNI. `Default` (and
  `ClusterFirst` on the host network, which falls back to it) uses the node's resolver, which on Talos
  (hostDNS) resolves external names from the first boot.
"""

from __future__ import annotations

import ipaddress
from typing import Any

API_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
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


def lookup_failure(url: str) -> str:
    host = needs_dns(url)
    return f"dial tcp: lookup {host} on {DNS_SERVICE_IP}:53: read udp: i/o timeout"
