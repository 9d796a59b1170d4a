"""One commit moves a running cluster from Talos v1.11 / Kubernetes v1.32 / Flux v2.3 to the reference cluster's
versions (Talos v1.13.9 / Kubernetes v1.36.3, so Flux v2.9): every node runs v1.11, then v1.12.11, then v1.13.9;
Kubernetes passes each minor; Flux moves once Kubernetes is new enough for it; no second bootstrap; etcd keeps
quorum; one node down at a time; a PodDisruptionBudget holds throughout; Flux is Ready at the end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.cli.lab.session import LabSession
from tests.day2.conftest import CLUSTER_YAML, bootstrapped_lab, plan_of, push_change, steps_of
from tests.day2.fewest import Fewest
from tests.day2.test_drain_story import deploy_shop, ready_shop_pods, rt, wait_all_ready
from tests.day2.test_flux_upgrade_story import _flux_version, _objects, _ready
from tests.e2e.labkit import SPEC_TALOS_V1_11, describe

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-across-minors")]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    """The story starts at Talos v1.11.2 / Kubernetes v1.32.1 / Flux v2.3.0 (the reference cluster as pinned then)."""
    with bootstrapped_lab(tmp_path_factory.mktemp("across-minors"), SPEC_TALOS_V1_11, boot_timeout=15) as session:
        yield session


NODES = {
    "10.0.0.11": "talos-cp-01",
    "10.0.0.12": "talos-cp-02",
    "10.0.0.13": "talos-cp-03",
    "10.0.0.21": "talos-worker-01",
    "10.0.0.22": "talos-worker-02",
}
CONTROLLERS = ("10.0.0.11", "10.0.0.12", "10.0.0.13")


def _running(lab: LabSession, ips: tuple[str, ...] = tuple(NODES)) -> int:
    talos = lab.world.talos.lab
    with talos.lock:
        return sum(1 for ip in ips if talos.nodes[ip].phase == "running")


def _reference_versions() -> tuple[str, str]:
    """(Talos, Kubernetes) of the reference cluster as it is pinned today: the story's destination."""
    spec = yaml.safe_load((Path(__file__).parents[2] / CLUSTER_YAML).read_text())
    return spec["talos"]["version"], spec["kubernetes"]["version"]


def test_one_commit_upgrades_talos_across_two_minors_and_kubernetes_across_four(lab: LabSession) -> None:
    assert _reference_versions() == ("v1.13.9", "v1.36.3")
    assert _flux_version(lab) == "v2.3.0"
    talos = lab.world.talos.lab
    bootstraps, losses = len(talos.bootstrap_calls), len(talos.quorum_losses)
    assert {talos.nodes[ip].version for ip in NODES} == {"v1.11.2"}
    kube = lab.world.kube_twin
    deploy_shop(kube)
    wait_all_ready(kube)

    text = (lab.clone / "clusters/home/cluster.yaml").read_text()
    changed = text.replace("version: v1.11.2", "version: v1.13.9").replace("version: v1.32.1", "version: v1.36.3")
    started = time.monotonic()
    with (
        Fewest(lambda: _running(lab), start=5, every=0.02) as nodes_up,
        Fewest(lambda: _running(lab, CONTROLLERS), start=3, every=0.02) as controllers_up,
        Fewest(lambda: ready_shop_pods(kube), start=99, every=0.02) as shop,
    ):
        run = push_change(lab, text, changed, "Talos v1.13.9 and Kubernetes v1.36.3")
    wall = time.monotonic() - started
    print(f"upgrade across minors: {wall:.1f} s wall time (Talos v1.11.2→v1.13.9, Kubernetes v1.32.1→v1.36.3)")
    assert run["result"] == "success", describe(run)

    with talos.lock:
        ran = {NODES[ip]: list(talos.nodes[ip].versions_run) for ip in NODES}
        failures = {NODES[ip]: list(talos.nodes[ip].upgrade_failures) for ip in NODES}
    assert ran == {name: ["v1.11.2", "v1.12.11", "v1.13.9"] for name in NODES.values()}
    assert failures == {name: [] for name in NODES.values()}
    assert len(talos.bootstrap_calls) == bootstraps, "a second bootstrap"
    assert len(talos.quorum_losses) == losses, "etcd lost quorum"
    assert controllers_up.fewest == 2 and nodes_up.fewest == 4, "more than one node down at once"
    assert shop.fewest >= 2, f"only {shop.fewest} shop pods were Ready at one point; the budget says 2"

    executed = steps_of(lab, run)
    steps: list[dict[str, Any]] = plan_of(lab, run)["steps"]  # type: ignore[assignment]
    stages = list(dict.fromkeys(s["params"]["stage"] for s in steps if "stage" in s["params"]))
    assert stages == [
        "1/6 Talos v1.12.11",
        "2/6 Talos v1.13.9",
        "3/6 Kubernetes v1.33.6",
        "4/6 Kubernetes v1.34.1",
        "5/6 Kubernetes v1.35.4",
        "6/6 Kubernetes v1.36.3",
    ]
    assert executed.index("etcd_snapshot") < executed.index("node/talos-cp-01/drain")
    for name in NODES.values():  # drained around each upgrade; the v1.13 config only once it runs v1.13
        first = executed.index(f"node/{name}/upgrade-v1.12.11")
        assert executed[executed.index(f"node/{name}/drain") : first + 1][-1] == f"node/{name}/upgrade-v1.12.11"
        assert executed.index(f"node/{name}/upgrade") < executed.index(f"node/{name}/config")
    kubelets = kube.store.list(rt(kube, "v1", "Node"), None)
    assert {n["status"]["nodeInfo"]["kubeletVersion"] for n in kubelets} == {"v1.36.3"}
    # the kubelet reports the OS it runs: Talos's os-release PRETTY_NAME, "Talos (<its release>)"
    assert {n["status"]["nodeInfo"]["osImage"] for n in kubelets} == {"Talos (v1.13.9)"}
    # Flux v2.9 needs Kubernetes >= 1.33: it moves once, after every Talos and Kubernetes step of the commit
    last_kubernetes = executed.index("kubernetes/manifests")
    assert last_kubernetes < executed.index("flux/upgrade") < executed.index("flux/ready")
    assert executed.count("flux/upgrade") == 1 and "flux/install" not in executed
    assert _flux_version(lab) == "v2.9.0"
    kustomizations = _objects(lab, "kustomize.toolkit.fluxcd.io/v1", "Kustomization")
    releases = _objects(lab, "helm.toolkit.fluxcd.io/v2", "HelmRelease")
    assert kustomizations and releases
    assert [k["metadata"]["name"] for k in kustomizations if not _ready(k)] == []
    assert [r["metadata"]["name"] for r in releases if not _ready(r)] == []
