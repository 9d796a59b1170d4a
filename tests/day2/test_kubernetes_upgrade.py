"""A Kubernetes upgrade done the way `talosctl upgrade-k8s` does it (siderolabs/talos
pkg/cluster/kubernetes/talos_managed.go@v1.11.2): kube-apiserver, kube-controller-manager, kube-scheduler on
each controller in turn, kube-proxy, then the kubelet on every node, then the bootstrap manifests synced.
Editing the machine configs alone would leave the manifests (CoreDNS) where bootstrap left them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runner.cli.lab.session import LabSession
from tests.day2.conftest import CLUSTER_YAML, bootstrapped_lab, steps_of
from tests.e2e.labkit import SPEC_TALOS_V1_11, describe

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-kubernetes")]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    """The reference cluster as pinned at Talos v1.11.2 / Kubernetes v1.32.1: the upgrade-k8s of Talos v1.11."""
    with bootstrapped_lab(tmp_path_factory.mktemp("k8s-upgrade"), SPEC_TALOS_V1_11, boot_timeout=15) as session:
        yield session


CONTROLLERS = ("talos-cp-01", "talos-cp-02", "talos-cp-03")
WORKERS = ("talos-worker-01", "talos-worker-02")


def _coredns_image(lab: LabSession) -> str:
    twin = lab.world.kube_twin
    rt = twin.catalog.by_kind("apps/v1", "Deployment")
    assert rt is not None
    deployment = twin.store.get(rt, "kube-system", "coredns")
    return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])


def _kubelet_versions(lab: LabSession) -> dict[str, str]:
    twin = lab.world.kube_twin
    rt = twin.catalog.by_kind("v1", "Node")
    assert rt is not None
    return {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"] for n in twin.store.list(rt, None)}


def test_kubernetes_upgrade_follows_upgrade_k8s_and_syncs_the_bootstrap_manifests(lab: LabSession) -> None:
    # Bootstrap created CoreDNS from what Talos v1.11.2 renders.
    assert _coredns_image(lab) == "registry.k8s.io/coredns/coredns:v1.12.3"
    text = (lab.clone / CLUSTER_YAML).read_text()
    text = text.replace("version: v1.11.2", "version: v1.11.3").replace("version: v1.32.1", "version: v1.33.5")
    commit = lab.commit({CLUSTER_YAML: text}, "Talos v1.11.3, Kubernetes v1.33.5")
    lab.push()
    run = lab.wait_for_run(commit, timeout=240)
    assert run["result"] == "success", describe(run)

    assert _kubelet_versions(lab) == dict.fromkeys((*CONTROLLERS, *WORKERS), "v1.33.5")
    # Talos v1.11.3 renders CoreDNS v1.12.4; only the manifest sync brings it into the cluster.
    assert _coredns_image(lab) == "registry.k8s.io/coredns/coredns:v1.12.4"

    executed = steps_of(lab, run)
    upgrade = [s for s in executed if s.startswith("kubernetes/")]
    assert upgrade == [
        *(f"kubernetes/kube-apiserver/{n}" for n in CONTROLLERS),
        *(f"kubernetes/kube-controller-manager/{n}" for n in CONTROLLERS),
        *(f"kubernetes/kube-scheduler/{n}" for n in CONTROLLERS),
        *(f"kubernetes/kube-proxy/{n}" for n in CONTROLLERS),
        *(f"kubernetes/kubelet/{n}" for n in (*CONTROLLERS, *WORKERS)),
        "kubernetes/manifests",
    ]
    # Every Talos upgrade finished before the first component moved.
    last_talos = max(i for i, s in enumerate(executed) if s.startswith("node/") and s.endswith("/upgrade"))
    assert last_talos < executed.index("kubernetes/kube-apiserver/talos-cp-01")
