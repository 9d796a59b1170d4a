"""A cluster handed off at Flux v2.3 (Kubernetes v1.32, the reference cluster as bootstrapped) gets Flux v2.9 with
the commit that moves it to Kubernetes v1.33: the Kubernetes upgrade first (v2.9 needs v1.33), then the Flux
upgrade with its CRD stored versions migrated, then Flux Ready again. What an install from before the one-pod
layout left (the release's four controller Deployments) is pruned; nothing Flux applied from git is touched."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from runner.cli.lab.session import LabSession
from runner.drivers.kube import flux_install
from tests.day2.conftest import CLUSTER_YAML, bootstrapped_lab, steps_of
from tests.e2e.labkit import SPEC_TALOS_V1_11, describe

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-flux-upgrade")]

OLD_DEPLOYMENTS = ("helm-controller", "kustomize-controller", "notification-controller", "source-controller")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    # the reference cluster as pinned at Kubernetes v1.32.1: Flux v2.3.0 is handed off there
    with bootstrapped_lab(tmp_path_factory.mktemp("flux-upgrade"), SPEC_TALOS_V1_11) as session:
        yield session


def _objects(lab: LabSession, api_version: str, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
    twin = lab.world.kube_twin
    rt = twin.catalog.by_kind(api_version, kind)
    assert rt is not None, f"{kind} is not served at {api_version}"
    return twin.store.list(rt, namespace)


def _flux_version(lab: LabSession) -> str:
    (ns,) = [n for n in _objects(lab, "v1", "Namespace") if n["metadata"]["name"] == "flux-system"]
    return str(ns["metadata"]["labels"]["app.kubernetes.io/version"])


def _applied_from_git(lab: LabSession) -> dict[tuple[str, str, str], str]:
    """(kind, namespace, name) -> uid of the HelmReleases and Namespaces kustomize-controller applied from git."""
    objs = [*_objects(lab, "helm.toolkit.fluxcd.io/v2", "HelmRelease"), *_objects(lab, "v1", "Namespace")]
    return {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o["metadata"]["uid"]
        for o in objs
        if "kustomize.toolkit.fluxcd.io/name" in o["metadata"].get("labels", {})
    }


def _ready(obj: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in obj.get("status", {}).get("conditions", []))


def test_a_cluster_handed_off_at_flux_v23_is_upgraded_to_v29_with_its_kubernetes(lab: LabSession) -> None:
    assert _flux_version(lab) == "v2.3.0"
    twin = lab.world.kube_twin
    deployments = twin.catalog.by_kind("apps/v1", "Deployment")
    assert deployments is not None
    for old in (d for d in flux_install.vendored_components("v2.3.0") if d["kind"] == "Deployment"):
        twin.store.create(deployments, "flux-system", old, "kubectl")
    git_owned = _applied_from_git(lab)
    assert len(git_owned) > 5

    text = (lab.clone / CLUSTER_YAML).read_text()
    commit = lab.commit({CLUSTER_YAML: text.replace("version: v1.32.1", "version: v1.33.5")}, "Kubernetes v1.33.5")
    lab.push()
    run = lab.wait_for_run(commit, timeout=300)
    assert run["result"] == "success", describe(run)

    executed = steps_of(lab, run)
    assert executed.index("kubernetes/manifests") < executed.index("flux/upgrade") < executed.index("flux/ready")
    assert "flux/install" not in executed
    assert _flux_version(lab) == "v2.9.0"
    stored = {
        c["metadata"]["name"]: c["status"]["storedVersions"]
        for c in _objects(lab, "apiextensions.k8s.io/v1", "CustomResourceDefinition")
        if c["metadata"]["name"].endswith(".toolkit.fluxcd.io")
    }
    assert stored["buckets.source.toolkit.fluxcd.io"] == ["v1"]
    assert stored["ocirepositories.source.toolkit.fluxcd.io"] == ["v1"]
    assert all(len(v) == 1 for v in stored.values())
    names = {d["metadata"]["name"] for d in _objects(lab, "apps/v1", "Deployment", "flux-system")}
    assert names.isdisjoint(OLD_DEPLOYMENTS) and "flux" in names
    kustomizations = _objects(lab, "kustomize.toolkit.fluxcd.io/v1", "Kustomization")
    releases = _objects(lab, "helm.toolkit.fluxcd.io/v2", "HelmRelease")
    assert kustomizations and releases
    assert [k["metadata"]["name"] for k in kustomizations if not _ready(k)] == []
    assert [r["metadata"]["name"] for r in releases if not _ready(r)] == []
    # What Flux applied from git is the same objects as before (never deleted and recreated).
    assert _applied_from_git(lab) == git_owned
    # Objects at a version v2.9 dropped are refused now.
    assert twin.catalog.by_kind("helm.toolkit.fluxcd.io/v2beta1", "HelmRelease") is None
    assert twin.catalog.by_kind("source.toolkit.fluxcd.io/v1beta2", "HelmRepository") is None
