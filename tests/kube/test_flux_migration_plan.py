"""The Flux v2.3 -> v2.9 migration plan, decided from the two vendored releases (core.flux_migration)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from runner.core.flux_migration import bridge_crd, plan_crd_migrations, prune_targets
from runner.drivers.kube import flux_install

OLD, NEW = "v2.3.0", "v2.9.0"


def crds(version: str) -> list[dict[str, Any]]:
    return [
        copy.deepcopy(d) for d in flux_install.vendored_components(version) if d["kind"] == "CustomResourceDefinition"
    ]


def as_installed(crd: dict[str, Any], stored: list[str]) -> dict[str, Any]:
    """A CRD as the API server returns it after an install: its status lists the stored versions."""
    return {**crd, "status": {"storedVersions": stored}}


def fresh_v23() -> list[dict[str, Any]]:
    """A v2.3 install: each CRD stored only in the storage version it had then."""
    return [as_installed(c, [next(v["name"] for v in c["spec"]["versions"] if v.get("storage"))]) for c in crds(OLD)]


def test_a_fresh_v23_install_needs_a_bridge_for_bucket_and_ocirepository_only() -> None:
    plan = {m.name: m for m in plan_crd_migrations(fresh_v23(), crds(NEW))}
    bridged = sorted(name for name, m in plan.items() if m.bridge is not None)
    assert bridged == ["buckets.source.toolkit.fluxcd.io", "ocirepositories.source.toolkit.fluxcd.io"]
    assert sorted(name for name, m in plan.items() if m.rewrite) == bridged
    bucket = plan["buckets.source.toolkit.fluxcd.io"]
    assert (bucket.stored, bucket.storage) == (("v1beta2",), "v1")


def test_the_bridge_serves_the_stored_version_beside_the_new_storage_one() -> None:
    live = next(c for c in fresh_v23() if c["metadata"]["name"] == "ocirepositories.source.toolkit.fluxcd.io")
    new = next(c for c in crds(NEW) if c["metadata"]["name"] == "ocirepositories.source.toolkit.fluxcd.io")
    bridge = bridge_crd(live, new)
    assert bridge is not None
    versions = [(v["name"], v["served"], v["storage"]) for v in bridge["spec"]["versions"]]
    assert versions == [("v1", True, True), ("v1beta2", True, False)]
    old_schema = next(v for v in live["spec"]["versions"] if v["name"] == "v1beta2")["schema"]
    assert bridge["spec"]["versions"][1]["schema"] == old_schema
    # the new release's own CRD object is not changed by building its bridge
    assert [v["name"] for v in new["spec"]["versions"]] == ["v1"]


def test_a_long_lived_cluster_stored_in_several_versions_is_bridged_and_rewritten() -> None:
    live = [
        as_installed(c, ["v2beta1", "v2"]) if c["metadata"]["name"].startswith("helmreleases.") else c
        for c in fresh_v23()
    ]
    plan = {m.name: m for m in plan_crd_migrations(live, crds(NEW))}
    release = plan["helmreleases.helm.toolkit.fluxcd.io"]
    assert release.rewrite and release.storage == "v2"
    assert release.bridge is not None
    assert [v["name"] for v in release.bridge["spec"]["versions"]] == ["v2", "v2beta1"]


def test_crds_new_in_the_release_need_no_migration() -> None:
    names = {m.name for m in plan_crd_migrations(fresh_v23(), crds(NEW))}
    assert "externalartifacts.source.toolkit.fluxcd.io" not in names
    assert len(names) == len(crds(OLD))


def test_a_cluster_already_migrated_needs_nothing() -> None:
    live = [as_installed(c, [next(v["name"] for v in c["spec"]["versions"] if v.get("storage"))]) for c in crds(NEW)]
    assert [m for m in plan_crd_migrations(live, crds(NEW)) if m.bridge or m.rewrite] == []


@given(st.lists(st.sampled_from(["v1alpha1", "v1beta1", "v1beta2", "v1", "v2beta1", "v2"]), min_size=1, unique=True))
def test_after_the_bridge_every_stored_version_is_in_spec_versions(stored: list[str]) -> None:
    """The invariant the API server checks: a CRD update never drops a version still stored."""
    for live, new in PAIRS:
        live = as_installed(live, stored)
        bridge = bridge_crd(live, new)
        served = {v["name"] for v in (bridge or new)["spec"]["versions"]}
        assert set(stored) <= served
        assert sum(1 for v in (bridge or new)["spec"]["versions"] if v["storage"]) == 1


def _name(c: dict[str, Any]) -> str:
    return str(c["metadata"]["name"])


def _common(new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    old = {_name(c) for c in crds(OLD)}
    return [c for c in new if _name(c) in old]


PAIRS = list(zip(sorted(fresh_v23(), key=_name), sorted(_common(crds(NEW)), key=_name), strict=True))


def _labelled(kind: str, name: str, namespace: str = "flux-system", **extra: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/part-of": "flux", "app.kubernetes.io/instance": "flux-system", **extra}
    return {"kind": kind, "metadata": {"name": name, "namespace": namespace, "labels": labels}}


def test_prune_removes_the_four_controller_deployments_of_an_older_layout() -> None:
    new = flux_install.patched_components(NEW)
    live = [
        _labelled("Deployment", "flux"),
        *(_labelled("Deployment", c) for c in ("source-controller", "kustomize-controller", "helm-controller")),
        _labelled("Deployment", "notification-controller"),
        _labelled("Service", "source-controller"),
        _labelled("ClusterRole", "crd-controller-flux-system", namespace=""),
    ]
    assert prune_targets(live, new) == [
        ("apps/v1", "Deployment", "flux-system", "helm-controller"),
        ("apps/v1", "Deployment", "flux-system", "kustomize-controller"),
        ("apps/v1", "Deployment", "flux-system", "notification-controller"),
        ("apps/v1", "Deployment", "flux-system", "source-controller"),
    ]


def test_prune_never_touches_what_flux_applied_from_git_nor_crds_nor_unlabelled_objects() -> None:
    new = flux_install.patched_components(NEW)
    live = [
        _labelled("Deployment", "podinfo", **{"kustomize.toolkit.fluxcd.io/name": "apps"}),
        _labelled("CustomResourceDefinition", "old.toolkit.fluxcd.io", namespace=""),
        {"kind": "Deployment", "metadata": {"name": "other", "namespace": "flux-system", "labels": {}}},
        _labelled("Service", "webhook-receiver"),
    ]
    assert prune_targets(live, new) == []
