"""The twin's rules for Flux events on their own: which resolver a pod's DNS policy gives it, what localhost
and a Service name reach, and how notification-controller matches Alerts and posts to a Provider."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from runner.drivers.kube import flux_install
from runner.lab.kube import KubeTwin, TwinOptions, pod_network
from runner.lab.kube.reach import Reach
from tests.polling import poll_until
from tests.webhook_sink import webhook_sink

NC_NAME = "notification-controller.flux-system.svc.cluster.local."
PRISM = [
    {"name": "KUBERNETES_SERVICE_HOST", "value": "localhost"},
    {"name": "KUBERNETES_SERVICE_PORT", "value": "7445"},
]


@pytest.mark.parametrize(
    ("policy", "host_network", "coredns", "expected"),
    [
        ("Default", True, False, f"dial tcp: lookup {NC_NAME} on 127.0.0.53:53: no such host"),
        ("Default", True, True, f"dial tcp: lookup {NC_NAME} on 127.0.0.53:53: no such host"),
        ("ClusterFirst", True, True, f"dial tcp: lookup {NC_NAME} on 127.0.0.53:53: no such host"),
        ("ClusterFirstWithHostNet", True, False, f"dial tcp: lookup {NC_NAME} on 10.96.0.10:53: read udp: i/o timeout"),
        ("ClusterFirstWithHostNet", True, True, None),
        ("ClusterFirst", False, True, None),
    ],
)
def test_a_cluster_name_resolves_only_through_cluster_dns_once_coredns_runs(
    policy: str, host_network: bool, coredns: bool, expected: str | None
) -> None:
    pod = {"dnsPolicy": policy, "hostNetwork": host_network}
    assert pod_network.lookup_error(NC_NAME, pod, "flux-system", coredns) == expected
    assert pod_network.lookup_error("hooks.example.net", {"dnsPolicy": "Default"}, "flux-system", False) is None


def _twin() -> KubeTwin:
    twin = KubeTwin(TwinOptions(pod_start_seconds=0))
    twin.add_node("talos-cp-01", "10.0.0.11", "controlplane")
    twin.add_node("talos-cp-02", "10.0.0.12", "controlplane")
    return twin


def _pod(twin: KubeTwin, name: str, node: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    rt = twin.catalog.by_kind("v1", "Pod")
    assert rt is not None
    containers = [{"name": "c", "image": "example/c:v1", "ports": [{"name": "http", "containerPort": 9797}]}]
    body = {
        "metadata": {"name": name, "namespace": "flux-system", "labels": labels or {}},
        "spec": {"nodeName": node, "containers": containers, **spec},
    }
    if twin.store.find(twin.catalog.by_kind("v1", "Namespace"), None, "flux-system") is None:  # type: ignore[arg-type]
        twin.store.create(twin.catalog.by_kind("v1", "Namespace"), None, {"metadata": {"name": "flux-system"}}, "t")  # type: ignore[arg-type]
    twin.store.create(rt, "flux-system", body, "test")
    twin.store.set_status(
        rt, "flux-system", name, {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    )
    return twin.store.get(rt, "flux-system", name)


def test_localhost_is_the_callers_own_pod_or_the_host_network_of_its_node() -> None:
    twin = _twin()
    reach = Reach(twin.store, twin.catalog, twin.cluster)
    server = _pod(twin, "server", "talos-cp-01", hostNetwork=True)
    same_node = _pod(twin, "same-node", "talos-cp-01", hostNetwork=True)
    other_node = _pod(twin, "other-node", "talos-cp-02", hostNetwork=True)
    pod_network_only = _pod(twin, "pod-net", "talos-cp-01")
    url = "http://localhost:9797/"
    assert reach.unreachable(url, server, server, 9797) is None
    assert reach.unreachable(url, same_node, server, 9797) is None
    refused = "dial tcp localhost:9797: connect: connection refused"
    assert reach.unreachable(url, other_node, server, 9797) == refused
    assert reach.unreachable(url, pod_network_only, server, 9797) == refused
    assert reach.unreachable("http://localhost:9090/", server, server, 9797) == (
        "dial tcp localhost:9090: connect: connection refused"
    )
    assert reach.unreachable("http://10.0.0.11:9797/", other_node, server, 9797) is None


def test_a_service_name_reaches_its_ready_endpoint_only_once_cluster_dns_and_the_cni_run() -> None:
    twin = _twin()
    reach = Reach(twin.store, twin.catalog, twin.cluster)
    server = _pod(twin, "server", "talos-cp-01", labels={"app": "notification-controller"}, hostNetwork=True)
    caller = _pod(twin, "caller", "talos-cp-02", hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet")
    service = next(
        o
        for o in flux_install.vendored_components(flux_install.flux_version())
        if o["kind"] == "Service" and o["metadata"]["name"] == "notification-controller"
    )
    twin.store.create(twin.catalog.by_kind("v1", "Service"), "flux-system", service, "test")  # type: ignore[arg-type]
    url = f"http://{NC_NAME}/"
    assert (
        reach.unreachable(url, caller, server, 9797)
        == f"dial tcp: lookup {NC_NAME} on 10.96.0.10:53: read udp: i/o timeout"
    )
    twin.cluster.set_cni_ready()
    coredns = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "kube-dns"}},
                "spec": {
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [{"name": "coredns", "image": "coredns/coredns:1.12.0"}],
                },
            },
        },
    }
    twin.create_missing([coredns], "test")
    assert twin.cluster.cluster_dns_answers
    assert reach.unreachable(url, caller, server, 9797) is None  # Service port 80 -> named port http -> 9797
    assert reach.unreachable(url, caller, server, 9090) == f"dial tcp {NC_NAME}:80: connect: connection refused"
    missing = "http://nobody.flux-system.svc.cluster.local./"
    assert reach.unreachable(missing, caller, server, 9797) == (
        "dial tcp: lookup nobody.flux-system.svc.cluster.local. on 10.96.0.10:53: no such host"
    )


def _flux_pod(twin: KubeTwin) -> None:
    """Flux's CRDs and a pod running source- and notification-controller side by side, on the host network."""
    twin.create_missing(
        [
            d
            for d in flux_install.vendored_components(flux_install.flux_version())
            if d["kind"] == "CustomResourceDefinition"
        ],
        "test",
    )
    containers = [
        {
            "name": "source-controller",
            "image": "ghcr.io/fluxcd/source-controller:v1.3.0",
            "env": PRISM,
            "args": ["--events-addr=http://localhost:9797/"],
        },
        {
            "name": "notification-controller",
            "image": "ghcr.io/fluxcd/notification-controller:v1.3.0",
            "env": PRISM,
            "args": ["--events-addr=:9797"],
        },
    ]
    pod = {
        "hostNetwork": True,
        "dnsPolicy": "Default",
        "tolerations": [{"operator": "Exists"}],
        "containers": containers,
    }
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "flux", "namespace": "flux-system"},
        "spec": {
            "selector": {"matchLabels": {"app": "flux"}},
            "template": {"metadata": {"labels": {"app": "flux"}}, "spec": pod},
        },
    }
    twin.create_missing(
        [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}, deploy], "test"
    )


def _route(twin: KubeTwin, address: str, **alert: Any) -> None:
    api = "notification.toolkit.fluxcd.io/v1beta3"
    meta = {"name": "r", "namespace": "flux-system"}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "hook", "namespace": "flux-system"},
        "data": {"token": "czNjcjN0"},
    }
    provider = {
        "apiVersion": api,
        "kind": "Provider",
        "metadata": meta,
        "spec": {"type": "generic-hmac", "address": address, "secretRef": {"name": "hook"}},
    }
    spec = {"providerRef": {"name": "r"}, "eventSources": [{"kind": "GitRepository", "name": "*"}], **alert}
    twin.create_missing(
        [secret, provider, {"apiVersion": api, "kind": "Alert", "metadata": meta, "spec": spec}], "test"
    )


REPO = {
    "apiVersion": "source.toolkit.fluxcd.io/v1",
    "kind": "GitRepository",
    "metadata": {"name": "flux-system", "namespace": "flux-system", "uid": "u1"},
}


def test_the_event_server_posts_matching_events_to_the_provider_signed_and_with_the_groups_metadata() -> None:
    twin = _twin()
    _flux_pod(twin)
    with webhook_sink() as sink:
        _route(twin, sink.url, exclusionList=["^ignored"], eventMetadata={"cluster": "home"})
        meta = {
            "source.toolkit.fluxcd.io/revision": "main@sha1:abc",
            "source.toolkit.fluxcd.io/checksum": "x",
            "other/key": "y",
        }
        twin.notifications.emit("source-controller", REPO, "info", "NewArtifact", "stored artifact", meta)
        twin.notifications.emit("source-controller", REPO, "info", "NewArtifact", "ignored: excluded", {})
        twin.notifications.emit("helm-controller", REPO, "info", "x", "no such container, no event", {})
        (got,) = poll_until(lambda: sink.received or None, "the notification", timeout=10, interval=0.05)
        assert twin.notifications.lost == []
    body = got["body"]
    assert body["metadata"] == {"revision": "main@sha1:abc", "cluster": "home"}
    assert (body["reason"], body["reportingController"]) == ("NewArtifact", "source-controller")
    expected = hmac.new(b"s3cr3t", json.dumps(body).encode(), hashlib.sha256).hexdigest()
    assert got["headers"]["X-Signature"] == f"sha256={expected}"
    assert got["headers"]["gotk-component"] == "source-controller"


def test_an_error_alert_gets_no_info_events() -> None:
    twin = _twin()
    _flux_pod(twin)
    with webhook_sink() as sink:
        _route(twin, sink.url, eventSeverity="error")
        twin.notifications.emit("source-controller", REPO, "info", "NewArtifact", "stored artifact", {})
        twin.notifications.emit("source-controller", REPO, "error", "GitOperationFailed", "clone failed", {})
        (got,) = poll_until(lambda: sink.received or None, "the error notification", timeout=10, interval=0.05)
    assert got["body"]["severity"] == "error"
    assert [e["severity"] for e in twin.notifications.received] == ["info", "error"]
