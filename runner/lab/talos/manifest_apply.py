"""Talos's k8s.ManifestApplyController: how a controller brings the bootstrap manifests it renders into the cluster.

Before 1.13 (internal/app/machined/pkg/controllers/k8s/manifest_apply.go@v1.12.11): create what is missing, never
touch what exists. From 1.13 (manifest_apply.go@v1.13.9, `apply`) the same walk keeps an inventory, the ConfigMap
kube-system/talos-bootstrap-manifests-inventory (siderolabs/go-kubernetes kubernetes/ssa@v0.2.38
internal/inventory/configmap: one data key per object, `namespace_name_group_kind`, value empty): an object the
inventory lists is skipped (even if someone deleted it since); one that exists is added to it (the backfill that
moves a cluster bootstrapped before 1.13 to the inventory); a missing one is server-side applied with the
`config.k8s.io/owning-inventory` annotation and field manager `talos`, then added. The inventory is written after
every walk (an unchanged write is a no-op on the server, so the lab writes only a changed one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.lab.kube.twin import KubeTwin

INVENTORY_NAMESPACE = "kube-system"  # constants.KubernetesInventoryNamespace
INVENTORY_NAME = "talos-bootstrap-manifests-inventory"  # constants.KubernetesBootstrapManifestsInventoryName
OWNING_INVENTORY = "config.k8s.io/owning-inventory"  # ssa.InventoryAnnotationKey
FIELD_MANAGER = "talos"  # constants.KubernetesFieldManagerName


def uses_inventory(talos_version: str) -> bool:
    major, minor, *_ = talos_version.lstrip("v").split(".")
    return (int(major), int(minor)) >= (1, 13)


def _key(namespace: str, name: str, api_version: str, kind: str) -> str:
    """fluxcd/cli-utils pkg/object/objmetadata.go `ObjMetadata.String` (a ':' in a name is written `__`)."""
    return f"{namespace}_{name.replace(':', '__')}_{api_version.rpartition('/')[0]}_{kind}"


def _sorted(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Namespaces first, then CRDs, the rest in rendering order (sort.SliceStable in `apply`)."""

    def rank(obj: dict[str, Any]) -> tuple[int, str]:
        if obj.get("kind") == "Namespace" and obj.get("apiVersion") == "v1":
            return 0, str(obj["metadata"]["name"])
        if obj.get("kind") == "CustomResourceDefinition":
            return 1, str(obj["metadata"]["name"])
        return 2, ""

    return sorted(objects, key=rank)


def apply_with_inventory(kube: KubeTwin, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One walk of the 1.13 controller; returns the objects it created (the caller lets the cluster react)."""
    configmaps = kube.catalog.by_kind("v1", "ConfigMap")
    assert configmaps is not None
    with kube.store.lock:
        current = kube.store.find(configmaps, INVENTORY_NAMESPACE, INVENTORY_NAME)
        if current is None:  # NewInventory: created empty when missing
            current = kube.store.create(
                configmaps,
                INVENTORY_NAMESPACE,
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": INVENTORY_NAME}},
                FIELD_MANAGER,
            )
        listed = dict(current.get("data") or {})
        inventory = set(listed)
        created = []
        for obj in _sorted(objects):
            rt = kube.catalog.by_kind(obj["apiVersion"], obj["kind"])
            if rt is None:
                continue  # no mapping: Talos reports it and goes on with the others
            meta = dict(obj["metadata"])
            name = str(meta["name"])
            if rt.namespaced:
                namespace = str(meta.get("namespace") or "default")
            else:
                stray = _key(str(meta.get("namespace") or ""), name, obj["apiVersion"], obj["kind"])
                if meta.get("namespace") and stray in inventory:
                    inventory.discard(stray)  # what 1.13.0 recorded with a namespace: dropped, not applied
                    continue
                namespace = ""
            key = _key(namespace, name, obj["apiVersion"], obj["kind"])
            if key in inventory:
                continue
            if kube.store.find(rt, namespace or None, name) is not None:
                inventory.add(key)  # backfill
                continue
            annotations = dict(meta.get("annotations") or {})
            if annotations.get(OWNING_INVENTORY, INVENTORY_NAME) != INVENTORY_NAME:
                continue  # a foreign inventory annotation: an error on the controller, the object is skipped
            annotations[OWNING_INVENTORY] = INVENTORY_NAME
            body = {**obj, "metadata": {**meta, "annotations": annotations}}
            if namespace:
                body["metadata"]["namespace"] = namespace
            else:
                body["metadata"].pop("namespace", None)
            created.append(kube.store.apply(rt, namespace or None, name, body, FIELD_MANAGER, False))
            inventory.add(key)
        if inventory != set(listed):
            data = dict.fromkeys(sorted(inventory), "")
            kube.store.replace(
                configmaps, INVENTORY_NAMESPACE, INVENTORY_NAME, {**current, "data": data}, FIELD_MANAGER
            )
    return created
