"""Talos's manifest controller as each release runs it against the Kubernetes twin: from 1.13 it keeps the
bootstrap-manifests inventory (manifest_apply.go@v1.13.9), before it only creates what is missing; and the
twin's API server answers as the kube-apiserver image the controllers run."""

from __future__ import annotations

from typing import Any

from runner.lab import control_plane
from runner.lab.kube import KubeTwin
from runner.lab.talos import manifest_apply, manifests

INVENTORY = ("kube-system", "talos-bootstrap-manifests-inventory")
OWNING = "config.k8s.io/owning-inventory"
CONFIG: list[dict[str, Any]] = [{"version": "v1alpha1", "cluster": {"proxy": {"disabled": True}}}]
COREDNS_KEYS = {
    "kube-system_coredns__ServiceAccount": "",
    "kube-system_coredns_apps_Deployment": "",
    "kube-system_kube-dns__Service": "",
}


def _objects(version: str) -> list[dict[str, Any]]:
    return [o for _, objs in sorted(manifests.rendered(CONFIG, version).items()) for o in objs]


def _find(twin: KubeTwin, api_version: str, kind: str, name: str, namespace: str | None) -> dict[str, Any] | None:
    rt = twin.catalog.by_kind(api_version, kind)
    assert rt is not None
    return twin.store.find(rt, namespace, name)


def _inventory(twin: KubeTwin) -> dict[str, str] | None:
    found = _find(twin, "v1", "ConfigMap", INVENTORY[1], INVENTORY[0])
    return None if found is None else dict(found.get("data") or {})


def test_talos_1_13_creates_annotated_objects_and_lists_them() -> None:
    twin = KubeTwin()
    control_plane.apply_bootstrap_manifests(twin, {"v1.13.9": _objects("v1.13.9")})
    assert _inventory(twin) == COREDNS_KEYS
    coredns = _find(twin, "apps/v1", "Deployment", "coredns", "kube-system")
    assert coredns is not None
    assert coredns["metadata"]["annotations"] == {OWNING: INVENTORY[1]}
    assert [(m["manager"], m["operation"]) for m in coredns["metadata"]["managedFields"]] == [("talos", "Apply")]


def test_talos_1_13_backfills_what_an_older_release_created_and_leaves_it_unannotated() -> None:
    twin = KubeTwin()
    control_plane.apply_bootstrap_manifests(twin, {"v1.12.11": _objects("v1.12.11")})
    assert _inventory(twin) is None
    control_plane.apply_bootstrap_manifests(twin, {"v1.13.9": _objects("v1.13.9")})
    assert _inventory(twin) == COREDNS_KEYS
    coredns = _find(twin, "apps/v1", "Deployment", "coredns", "kube-system")
    assert coredns is not None and OWNING not in (coredns["metadata"].get("annotations") or {})


def test_what_the_inventory_lists_is_not_created_again_after_a_delete() -> None:
    twin = KubeTwin()
    control_plane.apply_bootstrap_manifests(twin, {"v1.13.9": _objects("v1.13.9")})
    rt = twin.catalog.by_kind("v1", "ServiceAccount")
    assert rt is not None
    twin.store.delete(rt, "kube-system", "coredns")
    control_plane.apply_bootstrap_manifests(twin, {"v1.13.9": _objects("v1.13.9")})
    assert _find(twin, "v1", "ServiceAccount", "coredns", "kube-system") is None
    # before 1.13 the controller only looks at what exists: it creates it again
    control_plane.apply_bootstrap_manifests(twin, {"v1.12.11": _objects("v1.12.11")})
    assert _find(twin, "v1", "ServiceAccount", "coredns", "kube-system") is not None


def test_a_cluster_scoped_object_recorded_with_a_namespace_is_dropped_from_the_inventory() -> None:
    twin = KubeTwin()
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "flannel"}}
    stray = {**role, "metadata": {"name": "flannel", "namespace": "kube-system"}}
    control_plane.apply_bootstrap_manifests(twin, {"v1.13.9": [role]})
    assert _inventory(twin) == {"_flannel_rbac.authorization.k8s.io_ClusterRole": ""}
    rt = twin.catalog.by_kind("v1", "ConfigMap")
    assert rt is not None
    current = twin.store.get(rt, *INVENTORY)
    data = {"kube-system_flannel_rbac.authorization.k8s.io_ClusterRole": ""}
    twin.store.replace(rt, *INVENTORY, {**current, "data": data}, "talos")
    manifest_apply.apply_with_inventory(twin, [stray])
    assert _inventory(twin) == {}


def test_the_api_server_answers_as_the_oldest_kube_apiserver_running() -> None:
    twin = KubeTwin()
    assert twin.kubernetes_version == "v1.32.1"
    control_plane.follow_apiservers(twin, ["v1.36.3", "v1.35.4", "v1.36.3"])
    assert twin.kubernetes_version == "v1.35.4" and twin.store.codec.minor == "1.35"
    control_plane.follow_apiservers(twin, [])
    assert twin.kubernetes_version == "v1.35.4"
    documents = [{"cluster": {"apiServer": {"image": "registry.k8s.io/kube-apiserver:v1.36.3"}}}]
    assert control_plane.apiserver_version(documents) == "v1.36.3"
