"""Server-side apply of plain manifests, as the runner's field manager, and the reads it needs.

What the runner creates is labelled as managed by it, so that a later conflict on it (someone ran `kubectl
edit`) is resolved in its favour; a conflict on anyone else's object stays an error. After the hand-off to
Flux, objects Flux owns are refused instead of overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lightkube import Client
from lightkube.core import resource as lkres
from lightkube.core.exceptions import ApiError, LoadResourceError
from lightkube.core.resource_registry import resource_registry
from lightkube.generic_resource import load_in_cluster_generic_resources
from lightkube.types import PatchType

from runner.core.errors import Permanent

from .api import FLUX_OWNER_LABEL
from .connect import FIELD_MANAGER
from .errors import describe, translated


def _ident(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {where}{meta.get('name')}"


MANAGED_BY = "app.kubernetes.io/managed-by"


def _stamped(obj: dict[str, Any]) -> dict[str, Any]:
    """Mark what the runner creates, so a later conflict on it can be resolved in our favour."""
    meta = dict(obj.get("metadata") or {})
    labels = dict(meta.get("labels") or {})
    labels.setdefault(MANAGED_BY, FIELD_MANAGER)
    return {**obj, "metadata": {**meta, "labels": labels}}


def as_dict(obj: Any) -> dict[str, Any]:
    return dict(obj.to_dict()) if hasattr(obj, "to_dict") else dict(obj)


class ServerSideApply:
    _client: Client

    # resource types ------------------------------------------------------------------------------
    def _resource(self, api_version: str, kind: str) -> Any:
        try:
            return resource_registry.load(api_version, kind)
        except LoadResourceError:
            with translated("discover custom resource definitions"):
                load_in_cluster_generic_resources(self._client)
        try:
            return resource_registry.load(api_version, kind)
        except LoadResourceError:
            raise Permanent(f"kubernetes: no resource type {kind} in {api_version} on the server") from None

    # reads ---------------------------------------------------------------------------------------
    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        res = self._resource(api_version, kind)
        with translated(f"get {kind} {namespace + '/' if namespace else ''}{name}"):
            return self._live(res, name, namespace)

    # writes --------------------------------------------------------------------------------------
    def apply(
        self, objs: Sequence[Mapping[str, Any]], *, field_manager: str = FIELD_MANAGER, handoff: bool = False
    ) -> list[dict[str, Any]]:
        return [self._apply_one(dict(obj), field_manager, handoff) for obj in objs]

    def _apply_one(self, obj: dict[str, Any], field_manager: str, handoff: bool) -> dict[str, Any]:
        meta = obj.get("metadata") or {}
        if not obj.get("apiVersion") or not obj.get("kind") or not meta.get("name"):
            raise Permanent(f"kubernetes: apply: object needs apiVersion, kind and metadata.name: {_ident(obj)}")
        res = self._resource(obj["apiVersion"], obj["kind"])
        namespaced = issubclass(res, lkres.NamespacedResource)
        namespace = meta.get("namespace") if namespaced else None
        if handoff:
            self._refuse_flux_owned(obj, namespace)
        obj = _stamped(obj)
        what = f"apply {_ident(obj)}"
        with translated(what):
            try:
                return self._patch(res, obj, namespace, field_manager, force=False)
            except ApiError as e:
                if e.status.code != 409 or not self._ours(res, meta["name"], namespace, field_manager):
                    if e.status.code == 409:
                        raise Permanent(f"kubernetes: {what}: {describe(e)}") from None
                    raise
            # A conflict on an object we created: another writer (kubectl edit) changed our fields; take them back.
            return self._patch(res, obj, namespace, field_manager, force=True)

    def _patch(self, res: Any, obj: dict[str, Any], namespace: str | None, manager: str, force: bool) -> dict[str, Any]:
        out = self._client.patch(
            res,
            obj["metadata"]["name"],
            obj,
            namespace=namespace,
            patch_type=PatchType.APPLY,
            field_manager=manager,
            force=force,
        )
        return as_dict(out)

    def _live(self, res: Any, name: str, namespace: str | None) -> dict[str, Any] | None:
        try:
            return as_dict(self._client.get(res, name, namespace=namespace))
        except ApiError as e:
            if e.status.code == 404:
                return None
            raise

    def _ours(self, res: Any, name: str, namespace: str | None, manager: str) -> bool:
        live = self._live(res, name, namespace)
        if live is None:
            return False
        meta = live.get("metadata") or {}
        labels = meta.get("labels") or {}
        if FLUX_OWNER_LABEL in labels:
            return False
        return labels.get(MANAGED_BY) == FIELD_MANAGER or any(
            m.get("manager") == manager for m in meta.get("managedFields") or []
        )

    def _refuse_flux_owned(self, obj: dict[str, Any], namespace: str | None) -> None:
        res = self._resource(obj["apiVersion"], obj["kind"])
        labels = (obj.get("metadata") or {}).get("labels") or {}
        with translated(f"get {_ident(obj)}"):
            live = self._live(res, obj["metadata"]["name"], namespace)
        live_labels = ((live or {}).get("metadata") or {}).get("labels") or {}
        owner = labels.get(FLUX_OWNER_LABEL) or live_labels.get(FLUX_OWNER_LABEL)
        if owner:
            raise Permanent(
                f"kubernetes: refusing to write {_ident(obj)}: it is owned by Flux (Kustomization '{owner}') "
                "since the hand-off; change it in the repository instead"
            )
