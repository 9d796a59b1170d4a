"""The charts the lab's helm-controller can "install", and what installing them does to the cluster.

Only observable effects are simulated: the CNI comes up (Cilium, whose operator also registers its LB IPAM
and L2 announcement CRDs), CRDs appear (cert-manager with `crds.enabled`), and Cilium 1.20 with
`gatewayAPI.enabled` renders the `cilium` GatewayClass when the Gateway API is already served (chart 1.20.0
templates/cilium-gateway-api-class.yaml, `gatewayClass.create: auto` asks `.Capabilities.APIVersions.Has
"gateway.networking.k8s.io/v1/GatewayClass"`), and fails its install without the L7 proxy
(templates/validate.yaml). Everything else installs as an opaque release; a version not listed is not in the
chart repository. Cilium's agent DaemonSet (templates/cilium-agent/daemonset.yaml) carries the ownership metadata
Helm 3 stamps on every object it renders (pkg/action/validate.go setMetadataVisitor), which is what lets a later
release of the same name take it over and refuses any other release (`existingResourceConflict`).
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
# Registered by the Cilium operator at start (pkg/k8s/apis/cilium.io/client/crds/<version>), cluster-scoped.
CILIUM_KINDS = (
    ("cilium.io", "CiliumLoadBalancerIPPool", "ciliumloadbalancerippools", False),
    ("cilium.io", "CiliumL2AnnouncementPolicy", "ciliuml2announcementpolicies", False),
)
# Served versions per Cilium minor, storage first. 1.20.0's chart lists CiliumLoadBalancerIPPool at v2 (Chart.yaml
# artifacthub.io/crds) and its CRD still serves v2alpha1; the L2 announcement policy is v2alpha1 only.
CILIUM_CRD_VERSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "1.16": {"CiliumLoadBalancerIPPool": ("v2alpha1",), "CiliumL2AnnouncementPolicy": ("v2alpha1",)},
    "1.20": {"CiliumLoadBalancerIPPool": ("v2", "v2alpha1"), "CiliumL2AnnouncementPolicy": ("v2alpha1",)},
}
VALIDATE_L7 = (
    "execution error at (cilium/templates/validate.yaml:115:9): Ingress or Gateway API controller or Envoy L7 "
    "Load Balancer  requires .Values.l7Proxy to be set to 'true'"
)


MANAGED_BY = "app.kubernetes.io/managed-by"
RELEASE_NAME = "meta.helm.sh/release-name"
RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"


class ChartFailed(Exception):
    """The chart refused its values at render time (a `fail` in its templates)."""


@dataclass(frozen=True)
class Chart:
    name: str
    versions: tuple[str, ...]
    host_network: bool = False  # its pods run without a CNI (Cilium's agents)


CHARTS: dict[str, Chart] = {
    c.name: c
    for c in (
        Chart("cilium", ("1.16.4", "1.16.5", "1.20.0"), host_network=True),
        Chart("cert-manager", ("v1.15.3", "v1.16.2", "v1.21.1")),
        Chart("podinfo", ("6.7.0", "6.7.1")),
        Chart("proxmox-csi-plugin", ("0.5.9",)),
        Chart("grafana", ("10.5.15",)),
    )
}


def crd_manifest(
    group: str, kind: str, plural: str, namespaced: bool, version: str = "v1", also: tuple[str, ...] = ()
) -> dict[str, Any]:
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
                    "name": name,
                    "served": True,
                    "storage": name == version,
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
                for name in (version, *also)
            ],
        },
    }


def helm_owned(obj: dict[str, Any], release_name: str, release_namespace: str) -> dict[str, Any]:
    """The object as Helm 3 writes it: its chart labels plus `app.kubernetes.io/managed-by: Helm`, and the release's
    name and namespace as annotations (helm pkg/action/validate.go setMetadataVisitor)."""
    meta = obj["metadata"]
    meta["labels"] = {**(meta.get("labels") or {}), MANAGED_BY: "Helm"}
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        RELEASE_NAME: release_name,
        RELEASE_NAMESPACE: release_namespace,
    }
    return obj


def cilium_agent(version: str, release_namespace: str, release_name: str) -> dict[str, Any]:
    """The agent DaemonSet of cilium chart templates/cilium-agent/daemonset.yaml (1.16.5, 1.20.0): its name,
    labels and selector, on the host network, tolerating every taint (values.yaml `tolerations: [{operator:
    Exists}]`)."""
    labels = {"k8s-app": "cilium", "app.kubernetes.io/part-of": "cilium", "app.kubernetes.io/name": "cilium-agent"}
    if not version.startswith("1.16."):  # 1.20.0 adds `helm.sh/chart: {{ include "cilium.chart" . }}`
        labels["helm.sh/chart"] = f"cilium-{version}"
    daemonset = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "cilium", "namespace": release_namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "cilium"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "cilium", "app.kubernetes.io/name": "cilium-agent"}},
                "spec": {
                    "hostNetwork": True,
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [{"name": "cilium-agent", "image": f"quay.io/cilium/cilium:v{version}"}],
                },
            },
        },
    }
    return helm_owned(daemonset, release_name, release_namespace)


def side_effects(
    chart: str,
    version: str,
    values: dict[str, Any],
    release_namespace: str,
    served: frozenset[str] = frozenset(),
    release_name: str = "",
) -> list[dict[str, Any]]:
    """Objects the chart creates that other manifests depend on; `served` is the API server's group/version/kind
    list at render time (Helm's `.Capabilities.APIVersions`)."""
    out: list[dict[str, Any]] = []
    if chart == "proxmox-csi-plugin":
        out.extend(storage_charts.proxmox_csi(values, release_namespace, release_name, "v0.19.1"))
    if chart == "grafana":
        out.extend(storage_charts.grafana(values, release_namespace, release_name))
    if chart == "cert-manager" and ((values.get("crds") or {}).get("enabled") or values.get("installCRDs")):
        out.extend(crd_manifest(*k) for k in CERT_MANAGER_KINDS)
    if chart == "cilium":
        minor = "1.20" if version.startswith("1.20.") else "1.16"
        for group, kind, plural, namespaced in CILIUM_KINDS:
            storage, *also = CILIUM_CRD_VERSIONS[minor][kind]
            out.append(crd_manifest(group, kind, plural, namespaced, version=storage, also=tuple(also)))
        out.append(cilium_agent(version, release_namespace, release_name or "cilium"))
        gateway_api = (values.get("gatewayAPI") or {}).get("enabled")
        if gateway_api and minor == "1.20":
            if values.get("l7Proxy", True) is False:
                raise ChartFailed(VALIDATE_L7)
            create = str((values["gatewayAPI"].get("gatewayClass") or {}).get("create", "auto")).lower()
            if create == "true" or (create == "auto" and "gateway.networking.k8s.io/v1/GatewayClass" in served):
                out.append(
                    {
                        "apiVersion": "gateway.networking.k8s.io/v1",
                        "kind": "GatewayClass",
                        "metadata": {"name": "cilium"},
                        "spec": {
                            "controllerName": "io.cilium/gateway-controller",
                            "description": "The default Cilium GatewayClass",
                        },
                    }
                )
    if chart == "podinfo":
        # templates/service.yaml: the release's fullname, `service.externalPort` (9898) to the http port.
        port = int((values.get("service") or {}).get("externalPort", 9898))
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": release_name, "namespace": release_namespace, "labels": {"app": release_name}},
                "spec": {"type": "ClusterIP", "ports": [{"name": "http", "port": port, "targetPort": "http"}]},
            }
        )
    return out
