"""Installing Flux through the driver; the simulated controllers bring the cluster up in dependency order."""

from __future__ import annotations

import base64

from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi, flux_install, vendored_flux_version

from .conftest import SETTINGS, Lab

ORDER = ["infra-gateway-api", "infra-cni", "infra-controllers", "infra-storage", "infra-configs", "apps"]


def install(api: LightkubeApi, lab: Lab, age_key: Secret) -> None:
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", age_key, settings=SETTINGS)


def test_kustomizations_become_ready_in_dependency_order(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    lab.join_all_nodes()
    install(api, lab, age_key)
    api.wait_ready("Kustomization", "flux-system", timeout=30)
    for name in ORDER:
        status = api.wait_ready("Kustomization", name, timeout=30)
        assert status.reason == "ReconciliationSucceeded"
        assert status.last_applied_revision == f"main@sha1:{lab.repo.head()}"
    ready = [
        e.split("/")[2].split()[0]
        for e in lab.twin.events
        if e.startswith("Kustomization/") and "flux-system " not in e
    ]
    chain = [k for k in ORDER if k != "infra-storage"]  # storage needs only the CNI: beside the controllers
    assert [k for k in ready if k in chain] == chain
    assert ready.index("infra-storage") > ready.index("infra-cni")
    # the platform app the cluster enables comes after the storage and configs it depends on
    assert ready.index("platform-grafana") > max(ready.index("infra-storage"), ready.index("infra-configs"))
    statuses = {s.name: s for s in api.kustomizations_status()}
    assert set(statuses) == {"flux-system", *ORDER, "platform-grafana"}
    assert all(s.verdict == "ready" for s in statuses.values())


def test_nodes_become_ready_only_after_cilium(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    lab.join_all_nodes()
    assert lab.nodes_ready() == dict.fromkeys(lab.nodes_ready(), False)
    assert len(lab.nodes_ready()) == 5
    install(api, lab, age_key)
    api.wait_ready("HelmRelease", "cilium", timeout=30)
    assert all(lab.nodes_ready().values())
    node = api.get("v1", "Node", "talos-cp-01")
    assert node is not None
    assert not [t for t in node["spec"].get("taints", []) if t["key"] == "node.kubernetes.io/not-ready"]
    events = lab.twin.events
    cilium = events.index("HelmRelease/flux-system/cilium Ready")
    # Cilium's agents make the nodes Ready; helm-controller then sees the release healthy, then infra-cni.
    assert all(events.index(f"Node/{n} Ready") < cilium for n in lab.nodes_ready())
    assert events.index("Kustomization/flux-system/infra-cni Ready") > cilium


def test_vip_answers_after_kube_vip_daemonset(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    assert not lab.twin.vip_answers
    lab.join_all_nodes()
    install(api, lab, age_key)
    api.wait_ready("Kustomization", "infra-controllers", timeout=30)
    status = api.wait_ready("DaemonSet", "kube-vip-ds", namespace="kube-system", timeout=10)
    assert status.message == "3/3 ready"  # one per controller, none on workers
    assert lab.twin.vip_answers
    assert lab.twin.state()["vip_address"] == "10.0.0.20"
    events = lab.twin.events
    vip = events.index("VIP 10.0.0.20 answers")
    assert events.index("Kustomization/flux-system/infra-cni Ready") < vip
    assert vip < events.index("Kustomization/flux-system/infra-controllers Ready")


def test_sops_secret_is_decrypted_and_apps_are_served(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    lab.join_all_nodes()
    install(api, lab, age_key)
    api.wait_ready("Kustomization", "apps", timeout=30)
    secret = api.get("v1", "Secret", "cloudflare-api-token", "cert-manager")
    assert secret is not None
    assert base64.b64decode(secret["data"]["api-token"]) == b"lab-cloudflare-token-not-a-real-one"
    assert secret["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "infra-configs"
    issuer = api.get("cert-manager.io/v1", "ClusterIssuer", "letsencrypt")
    assert issuer is not None
    assert api.wait_ready("HelmRelease", "podinfo", namespace="podinfo", timeout=5).reason == "InstallSucceeded"
    assert api.get("gateway.networking.k8s.io/v1", "HTTPRoute", "podinfo", "podinfo") is not None


def test_flux_version_reports_the_vendored_release(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    assert api.flux_version() is None
    install(api, lab, age_key)
    assert api.flux_version() == vendored_flux_version() == "v2.9.0"


def test_nothing_reconciles_without_nodes(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    install(api, lab, age_key)
    # No node to run the controllers on: Flux stays idle, exactly like a cluster with no kubelets.
    obj = api.get("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "flux-system")
    assert (obj is not None and "status" not in obj) or not obj.get("status", {}).get("conditions")
    lab.twin.add_node("talos-cp-01", "10.0.0.11", "controlplane")
    assert api.wait_ready("Kustomization", "infra-cni", timeout=30).verdict == "ready"


def test_unpatched_flux_stays_idle_on_not_ready_nodes(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    lab.join_all_nodes()
    components = list(flux_install.vendored_components(flux_install.flux_version()))
    crds = [d for d in components if d["kind"] == "CustomResourceDefinition"]
    api.apply(crds)
    api.apply([d for d in components if d["kind"] != "CustomResourceDefinition"])
    api.apply(flux_install.sync_objects(lab.repo.url, "main", "flux/clusters/home", age_key, None))
    # Without the tolerations and host network the controllers cannot be scheduled: nothing reconciles.
    controller = api.get("apps/v1", "Deployment", "kustomize-controller", "flux-system")
    assert controller is not None and controller["status"]["readyReplicas"] == 0
    root = api.get("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "flux-system")
    assert root is not None and not (root.get("status") or {}).get("conditions")
    assert not any(lab.nodes_ready().values())
