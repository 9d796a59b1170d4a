"""Gateway API through Cilium: the CRDs before Cilium, a GatewayClass only when they were there, a Gateway with an
address from the LoadBalancer range and a certificate, and HTTPRoutes accepted (or not) by its listeners."""

from __future__ import annotations

from typing import Any

import pytest

from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi

from .conftest import SETTINGS, Lab

GW = "gateway.networking.k8s.io/v1"


def _install(api: LightkubeApi, lab: Lab, age_key: Secret) -> None:
    lab.join_all_nodes()
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", age_key, settings=SETTINGS)


def _conditions(status: dict[str, Any] | None) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in (status or {}).get("conditions") or []}


def _route_parents(api: LightkubeApi, name: str = "podinfo", namespace: str = "podinfo") -> list[dict[str, Any]]:
    route = api.get(GW, "HTTPRoute", name, namespace)
    assert route is not None
    return list((route.get("status") or {}).get("parents") or [])


def test_podinfo_route_is_accepted_on_a_programmed_gateway_with_an_address_from_the_range(
    lab: Lab, api: LightkubeApi, age_key: Secret
) -> None:
    _install(api, lab, age_key)
    api.wait_ready("Kustomization", "apps", timeout=30)
    gateway_class = api.get(GW, "GatewayClass", "cilium")
    assert gateway_class is not None
    assert gateway_class["spec"]["controllerName"] == "io.cilium/gateway-controller"
    assert _conditions(gateway_class.get("status")) == {"Accepted": ("True", "Accepted")}
    gateway = api.get(GW, "Gateway", "home", "gateway")
    assert gateway is not None
    assert _conditions(gateway["status"]) == {"Accepted": ("True", "Accepted"), "Programmed": ("True", "Programmed")}
    assert gateway["status"]["addresses"] == [{"type": "IPAddress", "value": "10.0.0.200"}]
    listeners = {entry["name"]: entry for entry in gateway["status"]["listeners"]}
    assert listeners["https"]["attachedRoutes"] == 2  # podinfo's and the platform's Grafana (the cluster enables it)
    assert _conditions(listeners["https"])["ResolvedRefs"] == ("True", "ResolvedRefs")
    service = api.get("v1", "Service", "cilium-gateway-home", "gateway")
    assert service is not None and service["spec"]["type"] == "LoadBalancer"
    assert lab.twin.state()["announced"] == {"10.0.0.200": "gateway/cilium-gateway-home"}
    [parent] = _route_parents(api)
    assert parent["parentRef"] == {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "name": "home",
        "namespace": "gateway",
        "sectionName": "https",
    }
    assert parent["controllerName"] == "io.cilium/gateway-controller"
    assert _conditions(parent) == {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("True", "ResolvedRefs")}
    certificate = api.get("cert-manager.io/v1", "Certificate", "home-wildcard", "gateway")
    assert certificate is not None
    assert _conditions(certificate["status"]) == {"Ready": ("True", "Ready")}
    secret = api.get("v1", "Secret", "home-wildcard-tls", "gateway")
    assert secret is not None and secret["type"] == "kubernetes.io/tls"
    assert api.get("networking.k8s.io/v1", "IngressClass", "nginx") is None


def test_gateway_api_crds_applied_after_cilium_leave_no_gatewayclass(
    lab: Lab, api: LightkubeApi, age_key: Secret
) -> None:
    """The chart renders the GatewayClass only if the API exists, and the operator checks the CRDs once, at start."""
    infra = lab.repo.read("flux/clusters/home/infrastructure.yaml").decode()
    infra = infra.replace("  dependsOn:\n    - name: infra-gateway-api\n", "")
    infra = infra.replace(
        "  name: infra-gateway-api\n  namespace: flux-system\nspec:\n",
        "  name: infra-gateway-api\n  namespace: flux-system\nspec:\n  dependsOn:\n    - name: infra-cni\n",
    )
    lab.repo.commit({"flux/clusters/home/infrastructure.yaml": infra.encode()})
    _install(api, lab, age_key)
    api.wait_ready("Kustomization", "infra-gateway-api", timeout=30)
    api.wait_ready("Kustomization", "infra-configs", timeout=30)
    lab.twin.reconcile()
    assert api.get(GW, "GatewayClass", "cilium") is None
    gateway = api.get(GW, "Gateway", "home", "gateway")
    assert (gateway is not None and "Accepted" not in _conditions(gateway.get("status"))) or _conditions(
        gateway.get("status")
    )["Accepted"][0] != "True"
    assert api.get("v1", "Service", "cilium-gateway-home", "gateway") is None


def test_a_gateway_whose_class_does_not_exist_stays_unaccepted(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    _install(api, lab, age_key)
    api.wait_ready("Kustomization", "apps", timeout=30)
    api.apply(
        [
            {
                "apiVersion": GW,
                "kind": "Gateway",
                "metadata": {"name": "other", "namespace": "gateway"},
                "spec": {"gatewayClassName": "nginx", "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]},
            }
        ]
    )
    lab.twin.reconcile()
    gateway = api.get(GW, "Gateway", "other", "gateway")
    assert gateway is not None
    assert _conditions(gateway.get("status")).get("Accepted", ("Unknown", "Pending")) == ("Unknown", "Pending")
    assert api.get("v1", "Service", "cilium-gateway-other", "gateway") is None


def test_a_route_needs_a_listener_that_allows_its_namespace(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    text = lab.repo.read("flux/infrastructure/configs/gateway.yaml").decode().replace("from: All", "from: Same")
    lab.repo.commit({"flux/infrastructure/configs/gateway.yaml": text.encode()})
    _install(api, lab, age_key)
    api.wait_ready("Kustomization", "apps", timeout=30)
    [parent] = _route_parents(api)
    assert _conditions(parent)["Accepted"] == ("False", "NotAllowedByListeners")


def test_a_route_to_a_missing_service_does_not_resolve_its_refs(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    text = lab.repo.read("flux/apps/podinfo/httproute.yaml").decode().replace("- name: podinfo\n", "- name: nothing\n")
    lab.repo.commit({"flux/apps/podinfo/httproute.yaml": text.encode()})
    _install(api, lab, age_key)
    api.wait_ready("Kustomization", "apps", timeout=30)
    [parent] = _route_parents(api)
    assert _conditions(parent) == {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("False", "BackendNotFound")}


def test_a_route_for_a_host_no_listener_serves_is_not_accepted(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    text = (
        lab.repo.read("flux/apps/podinfo/httproute.yaml")
        .decode()
        .replace("podinfo.${platform_domain:=home.example.org}", "podinfo.elsewhere.test")
    )
    lab.repo.commit({"flux/apps/podinfo/httproute.yaml": text.encode()})
    _install(api, lab, age_key)
    api.wait_ready("Kustomization", "apps", timeout=30)
    [parent] = _route_parents(api)
    assert _conditions(parent)["Accepted"] == ("False", "NoMatchingListenerHostname")


def test_gateway_api_without_the_l7_proxy_fails_the_cilium_install(
    lab: Lab, api: LightkubeApi, age_key: Secret
) -> None:
    text = lab.repo.read("flux/infrastructure/cni/cilium.yaml").decode().replace("l7Proxy: true", "l7Proxy: false")
    lab.repo.commit({"flux/infrastructure/cni/cilium.yaml": text.encode()})
    _install(api, lab, age_key)
    release: dict[str, Any] | None = None
    for _ in range(200):
        lab.twin.reconcile()
        release = api.get("helm.toolkit.fluxcd.io/v2", "HelmRelease", "cilium", "flux-system")
        if release is not None and _conditions(release.get("status")).get("Ready", ("",))[0] == "False":
            break
    assert release is not None
    ready = next(c for c in release["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InstallFailed")
    assert ready["message"] == (
        "Helm install failed for release kube-system/cilium with chart cilium@1.20.0: execution error at "
        "(cilium/templates/validate.yaml:115:9): Ingress or Gateway API controller or Envoy L7 Load Balancer  "
        "requires .Values.l7Proxy to be set to 'true'"
    )


@pytest.mark.parametrize(
    ("path", "old", "new", "chart", "namespace"),
    [
        ("flux/infrastructure/cni/cilium.yaml", "version: 1.20.0", "version: 1.20.1", "cilium", "flux-system"),
        (
            "flux/infrastructure/controllers/cert-manager/release.yaml",
            "version: v1.21.1",
            "version: v1.22.0",
            "cert-manager",
            "cert-manager",
        ),
    ],
)
def test_a_chart_version_the_repository_does_not_have_is_refused(
    lab: Lab, api: LightkubeApi, age_key: Secret, path: str, old: str, new: str, chart: str, namespace: str
) -> None:
    """The twin's chart repositories hold the versions of their index snapshots (cilium/charts index.yaml: 1.20.0 is
    the newest stable Cilium), not any version a manifest names."""
    lab.repo.commit({path: lab.repo.read(path).replace(old.encode(), new.encode())})
    _install(api, lab, age_key)
    version = new.split()[1]
    for _ in range(200):
        lab.twin.reconcile()
        release = api.get("helm.toolkit.fluxcd.io/v2", "HelmRelease", chart, namespace)
        if release is not None and _conditions(release.get("status")).get("Ready", ("",))[0] == "False":
            break
    assert release is not None
    ready = next(c for c in release["status"]["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "ArtifactFailed"
    assert f"no '{chart}' chart with version matching '{version}' found" in ready["message"]
