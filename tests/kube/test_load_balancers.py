"""LoadBalancer Services get addresses only from a source in the cluster (Cilium LB IPAM with the range
from cluster.yaml), and the flux/ manifests read cluster facts through Flux's post-build substitution."""

from __future__ import annotations

from typing import Any

import pytest

from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi
from runner.lab.kube import KubeTwin, TwinOptions, postbuild

from .conftest import SETTINGS, Lab

FLUX = ("flux/clusters/home", "main")


def _install(api: LightkubeApi, lab: Lab, age_key: Secret, settings: dict[str, str] = SETTINGS) -> None:
    lab.join_all_nodes()
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", age_key, settings=settings)


def _service_ips(api: LightkubeApi) -> list[str]:
    svc = api.get("v1", "Service", "cilium-gateway-home", "gateway")
    assert svc is not None
    return [i["ip"] for i in (svc.get("status") or {}).get("loadBalancer", {}).get("ingress", [])]


def test_the_gateway_gets_the_first_address_of_the_cluster_range(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    _install(api, lab, age_key)
    api.wait_ready("Kustomization", "apps", timeout=30)
    assert _service_ips(api) == ["10.0.0.200"]
    assert lab.twin.state()["announced"] == {"10.0.0.200": "gateway/cilium-gateway-home"}
    pool = api.get("cilium.io/v2", "CiliumLoadBalancerIPPool", "lan")
    assert pool is not None and pool["spec"]["blocks"] == [{"start": "10.0.0.200", "stop": "10.0.0.250"}]
    kube_vip = api.get("apps/v1", "DaemonSet", "kube-vip-ds", "kube-system")
    assert kube_vip is not None
    env = {e["name"]: e.get("value") for e in kube_vip["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (env["address"], env["vip_interface"]) == ("10.0.0.20", SETTINGS["cluster_interface"])


def test_without_a_pool_the_gateway_is_never_programmed(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    kustomization = lab.repo.read("flux/infrastructure/controllers/kustomization.yaml")
    lab.repo.commit(
        {"flux/infrastructure/controllers/kustomization.yaml": kustomization.replace(b"  - lb-ipam\n", b"")}
    )
    _install(api, lab, age_key)
    api.wait_ready("Kustomization", "infra-configs", timeout=30)
    lab.twin.reconcile()
    assert _service_ips(api) == []
    gateway = api.get("gateway.networking.k8s.io/v1", "Gateway", "home", "gateway")
    assert gateway is not None
    conditions = {c["type"]: (c["status"], c["reason"]) for c in gateway["status"]["conditions"]}
    assert conditions == {"Accepted": ("True", "Accepted"), "Programmed": ("False", "AddressNotAssigned")}
    assert gateway["status"]["addresses"] == []


def test_a_missing_setting_fails_the_kustomization_in_strict_mode(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    settings = {k: v for k, v in SETTINGS.items() if not k.startswith("lb_range_")}
    _install(api, lab, age_key, settings)
    api.wait_ready("Kustomization", "infra-cni", timeout=30)
    lab.twin.reconcile()
    infra = api.get("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "infra-controllers", "flux-system")
    assert infra is not None
    ready = next(c for c in infra["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "BuildFailed")
    assert ready["message"] == (
        "post build failed for 'lan': envsubst error: variable substitution failed: "
        'variable not set (strict mode): "lb_range_start"'
    )


def test_a_missing_settings_configmap_fails_every_kustomization_that_reads_it(
    lab: Lab, api: LightkubeApi, age_key: Secret
) -> None:
    _install(api, lab, age_key)
    api.wait_ready("Kustomization", "flux-system", timeout=30)
    rt = lab.twin.catalog.by_kind("v1", "ConfigMap")
    assert rt is not None
    lab.twin.store.delete(rt, "flux-system", "cluster-settings")
    ks_rt = lab.twin.catalog.by_kind("kustomize.toolkit.fluxcd.io/v1", "Kustomization")
    assert ks_rt is not None
    lab.twin.store.merge_patch(ks_rt, "flux-system", "infra-cni", {"spec": {"interval": "11m"}}, "test")
    lab.twin.reconcile()
    infra = api.get("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "infra-cni", "flux-system")
    assert infra is not None
    ready = next(c for c in infra["status"]["conditions"] if c["type"] == "Ready")
    assert (
        ready["message"]
        == "substitute from 'ConfigMap/cluster-settings' error: configmaps \"cluster-settings\" not found"
    )


@pytest.mark.parametrize(
    ("text", "variables", "strict", "expected"),
    [
        ("a: ${x}", {"x": "1"}, True, {"a": 1}),  # substituted on the YAML text, then parsed again
        ("a: '[${x}]'", {"x": "1"}, True, {"a": "[1]"}),  # quoted in the emitted YAML: stays a string
        ("a: $x", {"x": "1"}, True, {"a": "$x"}),  # only the braced form
        ("a: $${x}", {"x": "1"}, True, {"a": "${x}"}),
        ("a: ${y:=dflt}", {"x": "1"}, True, {"a": "dflt"}),
        ("a: '[${y}]'", {"x": "1"}, False, {"a": "[]"}),  # unset and not strict: empty
        ("a: ${y}", {}, True, {"a": "${y}"}),  # no variables at all: no substitution
    ],
)
def test_post_build_substitution(text: str, variables: dict[str, str], strict: bool, expected: dict[str, Any]) -> None:
    from ruamel.yaml import YAML

    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": YAML(typ="safe").load(text)}
    assert postbuild.substitute(obj, variables, strict)["data"] == expected


def test_a_loadbalancer_service_stays_pending_without_a_covering_pool() -> None:
    twin = KubeTwin(TwinOptions())
    twin.add_node("talos-worker-01", "10.0.0.21")
    twin.cluster.set_cni_ready()
    svc_rt = twin.catalog.by_kind("v1", "Service")
    assert svc_rt is not None
    twin.store.create(
        svc_rt,
        "default",
        {"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"type": "LoadBalancer"}},
        "t",
    )
    twin.reconcile()
    assert (twin.store.get(svc_rt, "default", "web").get("status") or {}).get(
        "loadBalancer"
    ) is None  # no pool: dormant
    from runner.lab.kube.charts import CILIUM_KINDS, crd_manifest

    crd_rt = twin.catalog.by_kind("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    assert crd_rt is not None
    for kind in CILIUM_KINDS:
        twin.store.create(crd_rt, None, crd_manifest(*kind, version="v2"), "t")
    pool_rt = twin.catalog.by_kind("cilium.io/v2", "CiliumLoadBalancerIPPool")
    assert pool_rt is not None
    twin.store.create(
        pool_rt,
        None,
        {
            "metadata": {"name": "p"},
            "spec": {
                "blocks": [{"start": "10.0.0.200", "stop": "10.0.0.201"}],
                "serviceSelector": {"matchLabels": {"app": "db"}},
            },
        },
        "t",
    )
    twin.reconcile()
    status = twin.store.get(svc_rt, "default", "web")["status"]
    assert "loadBalancer" not in status
    assert status["conditions"][0]["reason"] == "no_pool"
    twin.store.merge_patch(pool_rt, None, "p", {"spec": {"serviceSelector": None}}, "t")
    twin.reconcile()
    assert twin.store.get(svc_rt, "default", "web")["status"]["loadBalancer"]["ingress"][0]["ip"] == "10.0.0.200"
