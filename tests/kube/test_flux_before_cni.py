"""Flux on a fresh Talos cluster before any CNI: Pod Security admission (Talos enforces baseline outside
kube-system), no ClusterIP routing (kube-proxy is off until Cilium replaces it), no cluster DNS (CoreDNS
needs the CNI). The twin enforces each; the runner's Flux install must get through all three."""

from __future__ import annotations

from typing import Any

from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi, flux_install

from .conftest import SETTINGS, Lab

CONTROLLERS = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")


def _deployment(api: LightkubeApi, name: str) -> dict[str, Any]:
    obj = api.get("apps/v1", "Deployment", name, "flux-system")
    assert obj is not None
    return obj


def _conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def test_flux_controllers_run_before_the_cni(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    lab.join_all_nodes()
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", age_key, settings=SETTINGS)
    lab.twin.reconcile()
    pod = _deployment(api, "flux")  # all four controllers in one pod (flux_pod)
    assert {c["name"] for c in pod["spec"]["template"]["spec"]["containers"]} == set(CONTROLLERS)
    conditions = _conditions(pod)
    assert "ReplicaFailure" not in conditions, conditions["ReplicaFailure"]["message"]
    assert conditions["Available"]["status"] == "True"
    assert api.wait_ready("GitRepository", "flux-system", timeout=30).reason == "Succeeded"
    assert api.wait_ready("HelmRelease", "cilium", timeout=30).reason == "InstallSucceeded"
    api.wait_ready("Kustomization", "flux-system", timeout=30)


def test_the_flux_namespace_allows_what_the_controllers_need(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    namespace = next(
        o for o in flux_install.patched_components(flux_install.flux_version()) if o["kind"] == "Namespace"
    )
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    for deployment in (
        o for o in flux_install.patched_components(flux_install.flux_version()) if o["kind"] == "Deployment"
    ):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["dnsPolicy"] == "Default"
        for container in pod["containers"]:
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert (env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]) == ("localhost", "7445")
