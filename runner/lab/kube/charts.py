"""The charts the lab's helm-controller can "install", and what installing them does to the cluster.

Only observable effects are simulated: the CNI comes up (Cilium, whose operator also registers its LB IPAM
and L2 announcement CRDs), CRDs appear (cert-manager with `crds.enabled`), an IngressClass and the
controller's Service exist (ingress-nginx: `controller.service.type`, LoadBalancer by default). Everything
else installs as an opaque release.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import storage_charts

CERT_MANAGER_KINDS = (
    ("cert-manager.io", "Certificate", "certificates", True),
    ("cert-manager.io", "CertificateRequest", "certificaterequests", True),
    ("cert-manager.io", "Issuer", "issuers", True),
    ("cert-manager.io", "ClusterIssuer", "clusterissuers", False),
    ("acme.cert-manager.io", "Order", "orders", True),
    ("acme.cert-manager.io", "Challenge", "challenges", True),
)
# Registered by the Cilium operator at start (pkg/k8s/apis/cilium.io/client/crds/v2alpha1), cluster-scoped.
CILIUM_KINDS = (
    ("cilium.io", "CiliumLoadBalancerIPPool", "ciliumloadbalancerippools", False),
    ("cilium.io", "CiliumL2AnnouncementPolicy", "ciliuml2announcementpolicies", False),
)


@dataclass(frozen=True)
class Chart:
    name: str
    versions: tuple[str, ...]
    host_network: bool = False  # its pods run without a CNI (Cilium's agents)


CHARTS: dict[str, Chart] = {
    c.name: c
    for c in (
        Chart("cilium", ("1.16.4", "1.16.5", "1.17.0"), host_network=True),
        Chart("cert-manager", ("v1.15.3", "v1.16.2")),
        Chart("ingress-nginx", ("4.11.3", "4.12.0")),
        Chart("podinfo", ("6.7.0", "6.7.1")),
        Chart("proxmox-csi-plugin", ("0.5.9",)),
        Chart("grafana", ("10.5.15",)),
    )
}


def crd_manifest(group: str, kind: str, plural: str, namespaced: bool, version: str = "v1") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}", "labels": {"app.kubernetes.io/managed-by": "Helm"}},
        "spec": {
            "group": group,
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
            "scope": "Namespaced" if namespaced else "Cluster",
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            },
                        }
                    },
                }
            ],
        },
    }


def side_effects(chart: str, values: dict[str, Any], release_namespace: str, release: str = "") -> list[dict[str, Any]]:
    """Objects the chart creates that other manifests depend on."""
    out: list[dict[str, Any]] = []
    if chart == "proxmox-csi-plugin":
        out.extend(storage_charts.proxmox_csi(values, release_namespace, release, "v0.19.1"))
    if chart == "grafana":
        out.extend(storage_charts.grafana(values, release_namespace, release))
    if chart == "cert-manager" and ((values.get("crds") or {}).get("enabled") or values.get("installCRDs")):
        out.extend(crd_manifest(*k) for k in CERT_MANAGER_KINDS)
    if chart == "cilium":
        out.extend(crd_manifest(*k, version="v2alpha1") for k in CILIUM_KINDS)
    if chart == "ingress-nginx":
        controller = values.get("controller") or {}
        cls = (controller.get("ingressClassResource") or {}).get("name", "nginx")
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "ingress-nginx-controller",
                    "namespace": release_namespace,
                    "labels": {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
                },
                "spec": {
                    "type": (controller.get("service") or {}).get("type", "LoadBalancer"),
                    "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
                },
            }
        )
        out.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "IngressClass",
                "metadata": {"name": cls},
                "spec": {"controller": "k8s.io/ingress-nginx"},
            }
        )
    return out
