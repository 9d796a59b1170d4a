"""The twin's pre-CNI rules on their own: Pod Security levels from labels and the Talos defaults, API
reachability through ClusterIP vs KubePrism, and cluster DNS for the source-controller."""

from __future__ import annotations

from typing import Any

from runner.lab.kube import KubeTwin, TwinOptions, pod_security

HOST_NET_POD: dict[str, Any] = {
    "hostNetwork": True,
    "tolerations": [{"operator": "Exists"}],
    "containers": [
        {
            "name": "manager",
            "image": "example/manager:v1",
            "ports": [{"name": "http", "containerPort": 9790}],
            "env": [
                {"name": "KUBERNETES_SERVICE_HOST", "value": "localhost"},
                {"name": "KUBERNETES_SERVICE_PORT", "value": "7445"},
            ],
        }
    ],
}


def _twin(**options: Any) -> KubeTwin:
    twin = KubeTwin(TwinOptions(pod_security=pod_security.TALOS_DEFAULT, **options))
    twin.add_node("talos-cp-01", "10.0.0.11", "controlplane")
    return twin


def _deploy(
    twin: KubeTwin, namespace: str, pod: dict[str, Any], labels: dict[str, str] | None = None, name: str = "ctl"
) -> dict[str, Any]:
    ns_rt = twin.catalog.by_kind("v1", "Namespace")
    rt = twin.catalog.by_kind("apps/v1", "Deployment")
    assert ns_rt is not None and rt is not None
    if twin.store.find(ns_rt, None, namespace) is None:
        twin.store.create(ns_rt, None, {"metadata": {"name": namespace, "labels": labels or {}}}, "test")
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": pod},
        },
    }
    twin.store.create(rt, namespace, body, "test")
    twin.cluster.update_workloads()
    return twin.store.get(rt, namespace, name)


def _failure(obj: dict[str, Any]) -> str | None:
    for c in obj["status"].get("conditions", []):
        if c["type"] == "ReplicaFailure":
            return str(c["message"])
    return None


def test_talos_defaults_enforce_baseline_outside_kube_system() -> None:
    twin = _twin()
    refused = _deploy(twin, "flux-system", HOST_NET_POD)
    assert _failure(refused) == (
        'Error creating: pods "ctl-" is forbidden: violates PodSecurity "baseline:latest": '
        'host namespaces (hostNetwork=true), hostPort (container "manager" uses hostPort 9790)'
    )
    assert refused["status"]["readyReplicas"] == 0
    assert _failure(_deploy(twin, "kube-system", HOST_NET_POD)) is None  # exempt by the Talos config


def test_a_namespace_label_overrides_the_default_level() -> None:
    twin = _twin()
    admitted = _deploy(twin, "flux-system", HOST_NET_POD, {"pod-security.kubernetes.io/enforce": "privileged"})
    assert _failure(admitted) is None and admitted["status"]["readyReplicas"] == 1


def test_without_an_admission_config_everything_is_privileged() -> None:
    twin = KubeTwin(TwinOptions())
    twin.add_node("talos-cp-01", "10.0.0.11", "controlplane")
    assert _failure(_deploy(twin, "flux-system", HOST_NET_POD)) is None


def test_the_kubernetes_service_ip_does_not_route_before_the_cni() -> None:
    twin = _twin()
    pod = {**HOST_NET_POD, "containers": [{**HOST_NET_POD["containers"][0], "env": []}]}
    stuck = _deploy(twin, "kube-system", pod)
    assert _failure(stuck) == (
        'container "manager": dial tcp 10.96.0.1:443: i/o timeout '
        "(ClusterIP Services do not route: no kube-proxy and no CNI yet)"
    )
    twin.cluster.set_cni_ready()  # Cilium's kube-proxy replacement now programs ClusterIPs
    twin.cluster.update_workloads()
    rt = twin.catalog.by_kind("apps/v1", "Deployment")
    assert rt is not None
    assert _failure(twin.store.get(rt, "kube-system", "ctl")) is None


def test_with_kube_proxy_service_ips_route_on_the_host_network() -> None:
    twin = _twin(kube_proxy=True)
    pod = {**HOST_NET_POD, "containers": [{**HOST_NET_POD["containers"][0], "env": []}]}
    assert _failure(_deploy(twin, "kube-system", pod)) is None


def test_cluster_dns_does_not_answer_before_the_cni() -> None:
    twin = _twin()
    # the twin's source-controller is whichever flux-system container runs its image
    container = {**HOST_NET_POD["containers"][0], "image": "ghcr.io/fluxcd/source-controller:v1.3.0"}
    pod = {**HOST_NET_POD, "dnsPolicy": "ClusterFirstWithHostNet", "containers": [container]}
    _deploy(twin, "flux-system", pod, name="source-controller")
    rt = twin.catalog.by_kind("apps/v1", "Deployment")
    assert rt is not None
    assert twin.flux.unresolvable("source-controller", "https://git.example.net/home/cluster.git") == (
        "dial tcp: lookup git.example.net on 10.96.0.10:53: read udp: i/o timeout"
    )
    assert twin.flux.unresolvable("source-controller", "https://10.0.0.5/home/cluster.git") is None
    twin.store.merge_patch(
        rt, "flux-system", "source-controller", {"spec": {"template": {"spec": {"dnsPolicy": "Default"}}}}, "test"
    )
    assert twin.flux.unresolvable("source-controller", "https://git.example.net/home/cluster.git") is None
