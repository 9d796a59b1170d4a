"""`talosctl get manifests` through the driver: the bootstrap manifests a controller renders, CoreDNS at the
version its Talos release defaults to; workers render none."""

from __future__ import annotations

from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin
from tests.talos_nodes.conftest import Bundle, running


def test_a_controller_renders_coredns_at_its_release_default(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle
) -> None:
    running(twin, bundle, "10.0.0.11", "controlplane", "talos-cp-01")
    objects = driver.bootstrap_manifests("10.0.0.11")
    deployment = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "coredns")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.k8s.io/coredns/coredns:v1.12.3"
    assert {(o["kind"], o["metadata"]["name"]) for o in objects} >= {
        ("Service", "kube-dns"),
        ("ServiceAccount", "coredns"),
    }


def test_a_worker_renders_no_manifests(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    running(twin, bundle, "10.0.0.21", "worker", "talos-worker-01")
    assert driver.bootstrap_manifests("10.0.0.21") == []


def test_each_release_renders_its_own_coredns(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    twin.register("10.0.0.11", "talos-cp-01", "v1.13.9")  # DefaultCoreDNSVersion v1.14.6 at v1.13.9
    running(twin, bundle, "10.0.0.11", "controlplane", "talos-cp-01")
    objects = driver.bootstrap_manifests("10.0.0.11")
    deployment = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "coredns")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.k8s.io/coredns/coredns:v1.14.6"
