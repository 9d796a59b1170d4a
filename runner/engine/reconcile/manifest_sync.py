"""The last stage of `talosctl upgrade-k8s`: the bootstrap manifests a controller renders, synced into the
cluster the way the oldest Talos in the cluster does it (core/talos/manifest_inventory.py says how and why).

Before 1.13 every object is server-side applied with Talos's field manager and nothing is deleted. From 1.13:
annotate with the inventory, apply with force ownership, write the inventory, then delete what the previous
inventory lists and the manifests no longer hold (unless another inventory owns it) and write it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runner.core.errors import Permanent
from runner.core.talos import manifest_inventory as inv
from runner.drivers.kube.api import KubeApi
from runner.drivers.talos.api import TalosApi


def _workloads(applied: list[dict[str, Any]]) -> str:
    kinds = sorted(
        {f"{o['kind']}/{o['metadata']['name']}" for o in applied if o.get("kind") in ("Deployment", "DaemonSet")}
    )
    return ", ".join(kinds) or "no workloads"


def sync_manifests(
    talos: TalosApi, kube: KubeApi, controller_ip: str, handoff: bool, talos_versions: Sequence[str]
) -> str:
    objects: list[dict[str, Any]] = talos.bootstrap_manifests(controller_ip)
    if not inv.uses_inventory(talos_versions):
        applied = kube.apply(objects, field_manager=inv.FIELD_MANAGER, handoff=handoff)
        return f"{len(applied)} bootstrap manifest objects applied ({_workloads(applied)})"
    return _sync_with_inventory(kube, objects)


def _read_inventory(kube: KubeApi) -> list[str]:
    data = kube.configmap_data(inv.INVENTORY_NAME, inv.INVENTORY_NAMESPACE)
    if data is None:  # NewInventory: created empty when missing
        kube.create_object(inv.inventory_configmap(()))
        return []
    return sorted(data)


def _sync_with_inventory(kube: KubeApi, objects: list[dict[str, Any]]) -> str:
    try:
        annotated = inv.annotated(objects)
    except ValueError as e:
        raise Permanent(f"bootstrap manifests: {e}") from None
    keys = [inv.key_of(o, kube.namespaced(o["apiVersion"], o["kind"])) for o in annotated]
    inventory = _read_inventory(kube)
    for obj in annotated:  # an object another inventory owns is left alone: the whole sync stops
        meta = obj["metadata"]
        live = kube.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        if live is not None and not inv.policy_allows(live):
            raise Permanent(
                f"bootstrap manifests: {obj['kind']} {meta['name']} belongs to another inventory "
                f"({inv.OWNING_INVENTORY}); Talos would not apply it either"
            )
    applied = kube.apply_owned(annotated, inv.FIELD_MANAGER)
    recorded = sorted(set(inventory) | set(keys))
    kube.replace_object(inv.inventory_configmap(recorded))
    pruned: list[str] = []
    for key in inv.to_prune(recorded, keys):
        namespace, name, group, kind = inv.parse_key(key)
        api_version = kube.preferred_version(group, kind)
        if api_version is None:  # the RESTMapper finds no such kind: upstream stops there too
            raise Permanent(f"bootstrap manifests: the inventory lists {kind} {name}, a kind the server does not serve")
        live = kube.get(api_version, kind, name, namespace or None)
        if live is None:  # already gone: dropped from the inventory
            recorded.remove(key)
            continue
        if not inv.policy_allows(live):
            raise Permanent(f"bootstrap manifests: {kind} {name} belongs to another inventory; not pruned")
        kube.delete_object(api_version, kind, name, namespace or None)
        recorded.remove(key)
        pruned.append(f"{kind}/{name}")
    kube.replace_object(inv.inventory_configmap(recorded))
    told = f"; pruned {', '.join(pruned)}" if pruned else ""
    return (
        f"{len(applied)} bootstrap manifest objects server-side applied ({_workloads(applied)}), "
        f"{len(recorded)} in the inventory{told}"
    )
