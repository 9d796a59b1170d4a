"""Bootstrap manifests a Talos controller renders (`talosctl get manifests`: Manifests.kubernetes.talos.dev).

Talos's k8s.ManifestController renders them from the machine config (internal/app/machined/pkg/controllers/
k8s/manifest.go@v1.11.2); k8s.ManifestApplyController only *creates* the objects that are missing, right after
bootstrap (manifest_apply.go: "already exists" -> skip). So a newer rendering (a Talos upgrade moves the
default CoreDNS image, a machine-config change moves kube-proxy's) reaches the cluster only through
`talosctl upgrade-k8s`, whose last step server-side applies every rendered manifest (talos_managed.go:
getManifests + syncManifests). The twin renders the manifests whose versions matter: CoreDNS (image from
`cluster.coreDNS.image`, else the Talos release's DefaultCoreDNSVersion) and, when enabled, kube-proxy.
"""

from __future__ import annotations

from typing import Any

# pkg/machinery/constants/constants.go DefaultCoreDNSVersion, per Talos release.
DEFAULT_COREDNS = {
    **{f"v1.10.{p}": "v1.12.1" for p in range(10)},
    "v1.11.0": "v1.12.2",
    "v1.11.1": "v1.12.3",
    "v1.11.2": "v1.12.3",
    **{f"v1.11.{p}": "v1.12.4" for p in range(3, 7)},
    **{f"v1.12.{p}": "v1.13.2" for p in range(8)},
    "v1.12.8": "v1.14.3",
    **{f"v1.12.{p}": "v1.14.2" for p in range(9, 12)},
    **{f"v1.13.{p}": "v1.14.2" for p in range(7)},
    "v1.13.7": "v1.14.4",
    "v1.13.8": "v1.14.6",
    "v1.13.9": "v1.14.6",
}
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns"  # constants.CoreDNSImage
DNS_SERVICE_IP = "10.96.0.10"  # the 10th address of the default service subnet 10.96.0.0/12


def _cluster(documents: list[dict[str, Any]]) -> dict[str, Any]:
    for doc in documents:
        cluster = doc.get("cluster")
        if isinstance(cluster, dict):
            return cluster
    return {}


def coredns_image(documents: list[dict[str, Any]], talos_version: str) -> str:
    configured = (_cluster(documents).get("coreDNS") or {}).get("image")
    return str(configured or f"{COREDNS_IMAGE}:{DEFAULT_COREDNS.get(talos_version, 'v1.12.4')}")


def _coredns(image: str) -> list[dict[str, Any]]:
    labels = {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}
    pod = {
        "containers": [
            {
                "name": "coredns",
                "image": image,
                "args": ["-conf", "/etc/coredns/Corefile"],
                "ports": [
                    {"containerPort": 53, "name": "dns", "protocol": "UDP"},
                    {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                    {"containerPort": 9153, "name": "metrics", "protocol": "TCP"},
                ],
            }
        ],
        "dnsPolicy": "Default",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "priorityClassName": "system-cluster-critical",
        "serviceAccountName": "coredns",
        "tolerations": [
            {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane", "operator": "Exists"},
            {"effect": "NoSchedule", "key": "node.cloudprovider.kubernetes.io/uninitialized", "operator": "Exists"},
        ],
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "coredns", "namespace": "kube-system"}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                "template": {"metadata": {"labels": {"k8s-app": "kube-dns"}}, "spec": pod},
            },
        },
    ]


def _coredns_service() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
            "spec": {
                "clusterIP": DNS_SERVICE_IP,
                "selector": {"k8s-app": "kube-dns"},
                "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53}],
            },
        }
    ]


def _kube_proxy(image: str) -> list[dict[str, Any]]:
    pod = {
        "hostNetwork": True,
        "serviceAccountName": "kube-proxy",
        "tolerations": [{"operator": "Exists"}],
        "containers": [{"name": "kube-proxy", "image": image, "securityContext": {"privileged": True}}],
    }
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}},
            "spec": {
                "selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                "template": {"metadata": {"labels": {"k8s-app": "kube-proxy"}}, "spec": pod},
            },
        },
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "kube-proxy", "namespace": "kube-system"}},
    ]


def rendered(documents: list[dict[str, Any]], talos_version: str) -> dict[str, list[dict[str, Any]]]:
    """Manifest id -> its objects, for a controller running this config on this Talos version."""
    cluster = _cluster(documents)
    out: dict[str, list[dict[str, Any]]] = {}
    if not (cluster.get("coreDNS") or {}).get("disabled"):
        out["11-core-dns"] = _coredns(coredns_image(documents, talos_version))
        out["11-core-dns-svc"] = _coredns_service()
    proxy = cluster.get("proxy") or {}
    if not proxy.get("disabled"):
        out["10-kube-proxy"] = _kube_proxy(str(proxy.get("image") or "registry.k8s.io/kube-proxy"))
    return out
