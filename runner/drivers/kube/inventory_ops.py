"""The calls an inventory-backed sync makes (siderolabs/go-kubernetes kubernetes/ssa@v0.2.38): apply with force
ownership as fluxcd/pkg ssa does, read and write the inventory ConfigMap, delete with background propagation."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lightkube import Client
from lightkube.core import resource as lkres
from lightkube.core.exceptions import ApiError
from lightkube.resources.core_v1 import ConfigMap
from lightkube.types import CascadeType, PatchType

from runner.core.errors import Permanent

from .apply import as_dict
from .errors import translated


class InventoryOps:
    _client: Client

    _resource: Callable[[str, str], Any]  # ServerSideApply's: the lightkube type of an apiVersion and kind

    def namespaced(self, api_version: str, kind: str) -> bool:
        return issubclass(self._resource(api_version, kind), lkres.NamespacedResource)

    def preferred_version(self, group: str, kind: str) -> str | None:
        """The apiVersion to reach a group and kind by (an inventory key holds no version), None if unknown."""
        for version in ("v1", "v2", "v1beta1", "v1beta2", "v1alpha1"):
            api_version = f"{group}/{version}" if group else version
            try:
                self._resource(api_version, kind)
            except Permanent:
                continue
            return api_version
        return None

    def apply_owned(self, objs: Sequence[Mapping[str, Any]], field_manager: str) -> list[dict[str, Any]]:
        """Server-side apply taking every conflicting field (`client.ForceOwnership`)."""
        out = []
        for obj in objs:
            res = self._resource(str(obj["apiVersion"]), str(obj["kind"]))
            namespace = obj["metadata"].get("namespace") if issubclass(res, lkres.NamespacedResource) else None
            with translated(f"apply {obj['kind']} {obj['metadata']['name']}"):
                applied = self._client.patch(
                    res,
                    obj["metadata"]["name"],
                    dict(obj),
                    namespace=namespace,
                    patch_type=PatchType.APPLY,
                    field_manager=field_manager,
                    force=True,
                )
            out.append(as_dict(applied))
        return out

    def delete_object(self, api_version: str, kind: str, name: str, namespace: str | None) -> bool:
        """Delete with background propagation; False when it was already gone."""
        res = self._resource(api_version, kind)
        with translated(f"delete {kind} {name}"):
            try:
                self._client.delete(res, name, namespace=namespace, cascade=CascadeType.BACKGROUND)
            except ApiError as e:
                if e.status.code == 404:
                    return False
                raise
        return True

    def configmap_data(self, name: str, namespace: str) -> dict[str, str] | None:
        """A ConfigMap's data ({} when it has none), None when it does not exist."""
        with translated(f"get ConfigMap {namespace}/{name}"):
            try:
                cm = self._client.get(ConfigMap, name, namespace=namespace)
            except ApiError as e:
                if e.status.code == 404:
                    return None
                raise
        return dict(cm.data or {})

    def create_object(self, obj: Mapping[str, Any]) -> None:
        res = self._resource(str(obj["apiVersion"]), str(obj["kind"]))
        with translated(f"create {obj['kind']} {obj['metadata']['name']}"):
            self._client.create(res.from_dict(dict(obj)))

    def replace_object(self, obj: Mapping[str, Any]) -> None:
        """PUT without a resourceVersion (an unconditional update, as `Inventory.Write` sends it)."""
        res = self._resource(str(obj["apiVersion"]), str(obj["kind"]))
        with translated(f"update {obj['kind']} {obj['metadata']['name']}"):
            self._client.replace(res.from_dict(dict(obj)))
