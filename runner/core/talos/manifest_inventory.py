"""How `talosctl upgrade-k8s` of Talos 1.13+ tracks the bootstrap manifests it applies: an inventory.

siderolabs/talos pkg/cluster/kubernetes/talos_managed.go@v1.13.9 (`PerformManifestsSync`): when the oldest
Talos in the cluster supports it (pkg/machinery/compatibility/talos_version.go `SupportsSSAManifestSync`: 1.13+),
the manifests go through siderolabs/go-kubernetes kubernetes/ssa@v0.2.38 (`Manager.Apply`): every object is
annotated with the inventory's id, server-side applied with Talos's field manager (fluxcd/pkg ssa: force
ownership), recorded in a ConfigMap inventory (one data key per object, `namespace_name_group_kind`, value
empty: fluxcd/cli-utils pkg/object/objmetadata.go), then whatever the previous inventory lists and the
manifests no longer hold is deleted (background propagation) and dropped from the inventory. A live object
owned by another inventory is neither updated nor deleted (inventory policy, talosctl's default
`AdoptIfNoInventory`). Older Talos (go-kubernetes kubernetes/manifests/sync.go@v0.2.26) creates or updates
each object and deletes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runner.core.versions import minor_of

FIELD_MANAGER = "talos"  # constants.KubernetesFieldManagerName
INVENTORY_NAMESPACE = "kube-system"  # constants.KubernetesInventoryNamespace
INVENTORY_NAME = "talos-bootstrap-manifests-inventory"  # constants.KubernetesBootstrapManifestsInventoryName
OWNING_INVENTORY = "config.k8s.io/owning-inventory"  # ssa.InventoryAnnotationKey
SSA_SINCE = (1, 13)


def uses_inventory(talos_versions: Iterable[str]) -> bool:
    """Whether upgrade-k8s syncs by server-side apply with an inventory: the oldest node decides."""
    versions = [minor_of(v) for v in talos_versions]
    return bool(versions) and min(versions) >= SSA_SINCE


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def key_of(obj: Mapping[str, Any], namespaced: bool) -> str:
    """The object's inventory key (ObjMetadata.String(): a ':' in the name is written `__`)."""
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "") if namespaced else ""
    name = str(meta["name"]).replace(":", "__")
    return f"{namespace}_{name}_{group_of(str(obj['apiVersion']))}_{obj['kind']}"


def parse_key(key: str) -> tuple[str, str, str, str]:
    """(namespace, name, group, kind) of an inventory key."""
    namespace, _, rest = key.partition("_")
    rest, _, kind = rest.rpartition("_")
    name, _, group = rest.rpartition("_")
    return namespace, name.replace("__", ":"), group, kind


def annotated(objects: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The objects with the inventory annotation (`prepareObjects`); one naming another inventory is refused."""
    out = []
    for obj in objects:
        meta = dict(obj.get("metadata") or {})
        annotations = dict(meta.get("annotations") or {})
        if annotations.get(OWNING_INVENTORY, INVENTORY_NAME) != INVENTORY_NAME:
            raise ValueError(f"object {obj.get('kind')} {meta.get('name')} already has an inventory annotation")
        annotations[OWNING_INVENTORY] = INVENTORY_NAME
        out.append({**obj, "metadata": {**meta, "annotations": annotations}})
    return out


def policy_allows(live: Mapping[str, Any]) -> bool:
    """AdoptIfNoInventory: act on a live object that names this inventory or none."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    return bool(annotations.get(OWNING_INVENTORY, INVENTORY_NAME) == INVENTORY_NAME)


def to_prune(inventory: Iterable[str], applied: Iterable[str]) -> list[str]:
    """Inventory keys the manifests no longer hold (`calculatePruneObjects`); a cluster-scoped key (no
    namespace) matches an object of that group, kind and name in any namespace."""
    held = {parse_key(k) for k in applied}
    cluster_scoped = {(name, group, kind) for _, name, group, kind in held}
    out = []
    for key in inventory:
        ns, name, group, kind = parse_key(key)
        if (ns, name, group, kind) in held or (ns == "" and (name, group, kind) in cluster_scoped):
            continue
        out.append(key)
    return sorted(out)


def inventory_configmap(keys: Iterable[str]) -> dict[str, Any]:
    """The inventory as written (`Inventory.Write`: a ConfigMap whose data keys are the objects)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": INVENTORY_NAME, "namespace": INVENTORY_NAMESPACE},
        "data": dict.fromkeys(sorted(set(keys)), ""),
    }
