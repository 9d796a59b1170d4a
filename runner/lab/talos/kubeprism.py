"""KubePrism: where a Talos node's kubelet (and every host-network component) reaches the Kubernetes API.

Talos's KubePrismEndpointsController (internal/app/machined/pkg/controllers/k8s/kubeprism_endpoints.go)
lists, in order: the control-plane endpoint of the machine config, `localhost:<apiserver port>` on a
controller, and the API server of every controller that cluster discovery reports as a member. KubePrism
then picks a healthy one. Docs: "KubePrism" (Talos v1.11 kubernetes-guides/configuration/kubeprism).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from runner.lab.talos.lab import TalosLab
from runner.lab.talos.node import SimNode

API_SERVER_PORT = 6443


def kubeprism_endpoints(lab: TalosLab, node: SimNode) -> list[str]:
    """`host:port` of each endpoint; a controller's own `localhost` is given as its address."""
    assert node.config is not None
    url = urlsplit(node.config.endpoint)
    endpoints = [f"{url.hostname}:{url.port or 443}"]
    if node.is_controlplane:
        endpoints.append(f"{node.ip}:{API_SERVER_PORT}")
    # Discovery members come from the discovery service; without it a node knows only itself.
    members = lab.discovered(node) if lab.discovery_service else [node]
    endpoints += [f"{m.ip}:{API_SERVER_PORT}" for m in members if m.is_controlplane]
    return list(dict.fromkeys(endpoints))
