"""Upgrading a running Flux v2.3 to v2.9 through the driver against the twin: the CRDs' stored versions are
migrated (the new CRDs apply), the old install's leftovers are pruned, and Flux reconciles again."""

from __future__ import annotations

import pytest

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi, flux_install

from .conftest import SETTINGS, Lab

PATH = "flux/clusters/home"
KUSTOMIZATIONS = ["flux-system", "infra-cni", "infra-controllers", "infra-configs", "apps"]
BUCKET = {
    "apiVersion": "source.toolkit.fluxcd.io/v1beta2",
    "kind": "Bucket",
    "metadata": {"name": "backups", "namespace": "flux-system"},
    "spec": {"bucketName": "backups", "endpoint": "minio.example.net", "interval": "5m"},
}
OLD_DEPLOYMENTS = ["helm-controller", "kustomize-controller", "notification-controller", "source-controller"]


def handed_off_at_v23(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    """Flux v2.3 running and Ready, with what an install before the one-pod layout left (the release's four
    controller Deployments) and a Bucket persisted at v1beta2, v2.3's storage version for Buckets."""
    lab.join_all_nodes()
    api.install_flux(lab.repo.url, "main", PATH, age_key, settings=SETTINGS, version="v2.3.0")
    for name in KUSTOMIZATIONS:
        api.wait_ready("Kustomization", name, timeout=30)
    api.apply([d for d in flux_install.vendored_components("v2.3.0") if d["kind"] == "Deployment"])
    api.apply([BUCKET])


def stored_versions(api: LightkubeApi) -> dict[str, list[str]]:
    out = {}
    for crd in (d for d in flux_install.vendored_components("v2.9.0") if d["kind"] == "CustomResourceDefinition"):
        live = api.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd["metadata"]["name"])
        assert live is not None
        out[crd["metadata"]["name"]] = live["status"]["storedVersions"]
    return out


def test_the_new_crds_are_refused_without_the_migration(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    handed_off_at_v23(lab, api, age_key)
    with pytest.raises(Permanent, match=r'status.storedVersions\[0\]: Invalid value: "v1beta2": missing from spec'):
        api.install_flux(lab.repo.url, "main", PATH, age_key, settings=SETTINGS, version="v2.9.0")


def test_v23_is_upgraded_to_v29(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    handed_off_at_v23(lab, api, age_key)
    done = api.upgrade_flux("v2.9.0", lab.repo.url, "main", PATH, age_key, settings=SETTINGS)
    assert done == [
        "buckets.source.toolkit.fluxcd.io: serving v1 beside the stored v1beta2",
        "buckets.source.toolkit.fluxcd.io: 1 object(s) rewritten at v1, stored versions v1",
        "ocirepositories.source.toolkit.fluxcd.io: serving v1 beside the stored v1beta2",
        "ocirepositories.source.toolkit.fluxcd.io: 0 object(s) rewritten at v1, stored versions v1",
        "Flux v2.9.0 applied",
        *(f"pruned Deployment flux-system/{name}" for name in OLD_DEPLOYMENTS),
    ]
    assert api.flux_version() == "v2.9.0"
    # Every Flux CRD is stored in its v2.9 storage version only; the new one (ExternalArtifact) exists.
    assert stored_versions(api) == {
        "buckets.source.toolkit.fluxcd.io": ["v1"],
        "externalartifacts.source.toolkit.fluxcd.io": ["v1"],
        "gitrepositories.source.toolkit.fluxcd.io": ["v1"],
        "helmcharts.source.toolkit.fluxcd.io": ["v1"],
        "helmrepositories.source.toolkit.fluxcd.io": ["v1"],
        "ocirepositories.source.toolkit.fluxcd.io": ["v1"],
        "kustomizations.kustomize.toolkit.fluxcd.io": ["v1"],
        "helmreleases.helm.toolkit.fluxcd.io": ["v2"],
        "alerts.notification.toolkit.fluxcd.io": ["v1beta3"],
        "providers.notification.toolkit.fluxcd.io": ["v1beta3"],
        "receivers.notification.toolkit.fluxcd.io": ["v1"],
    }
    # The Bucket survived, at v1; v1beta2 is no longer served.
    assert api.get("source.toolkit.fluxcd.io/v1", "Bucket", "backups", "flux-system") is not None
    served = lab.twin.catalog.by_kind("source.toolkit.fluxcd.io/v1", "Bucket")
    assert served is not None and served.versions == ("v1",)
    assert lab.twin.catalog.by_kind("helm.toolkit.fluxcd.io/v2beta1", "HelmRelease") is None
    # The one pod runs the v2.9 controllers; the four old Deployments are gone.
    for name in OLD_DEPLOYMENTS:
        assert api.get("apps/v1", "Deployment", name, "flux-system") is None
    pod = api.get("apps/v1", "Deployment", "flux", "flux-system")
    assert pod is not None
    images = sorted(c["image"] for c in pod["spec"]["template"]["spec"]["containers"])
    assert images == [
        "ghcr.io/fluxcd/helm-controller:v1.6.1",
        "ghcr.io/fluxcd/kustomize-controller:v1.9.1",
        "ghcr.io/fluxcd/notification-controller:v1.9.1",
        "ghcr.io/fluxcd/source-controller:v1.9.1",
    ]
    # Flux reconciles again under the new release, and what it applied from git is untouched.
    handled = api.request_reconcile("Kustomization", "apps")
    assert api.wait_ready("Kustomization", "apps", timeout=30, handled=handled).verdict == "ready"
    assert api.wait_ready("HelmRelease", "podinfo", namespace="podinfo", timeout=30).verdict == "ready"


def test_an_upgrade_run_twice_changes_nothing_more(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    handed_off_at_v23(lab, api, age_key)
    api.upgrade_flux("v2.9.0", lab.repo.url, "main", PATH, age_key, settings=SETTINGS)
    assert api.upgrade_flux("v2.9.0", lab.repo.url, "main", PATH, age_key, settings=SETTINGS) == ["Flux v2.9.0 applied"]
