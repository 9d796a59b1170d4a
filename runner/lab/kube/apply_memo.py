"""What the simulated kustomize-controller built and applied last time, so an unchanged Kustomization costs nothing.

The twin re-runs every Kustomization on every pass. The same revision with the same spec, variables and decryption
Secret builds the same objects, and a server-side apply of the same configuration to an object nobody has written
since is a no-op (its resourceVersion stays), so both are skipped and the object as last applied is reused. The
outcome is the same; what is saved is parsing and copying large CRDs (the Gateway API ones are ~800 KB of YAML) on
every pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any

from .catalog import ResourceType
from .store import Store

Objects = list[dict[str, Any]]


def _ks_key(ks: dict[str, Any]) -> tuple[str, str]:
    return ks["metadata"]["namespace"], ks["metadata"]["name"]


class ApplyMemo:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._builds: dict[Hashable, tuple[Hashable, Objects]] = {}
        # (Kustomization, object id) -> (the desired object, the resourceVersion it got, the object as applied)
        self._applied: dict[Hashable, tuple[dict[str, Any], str | None, dict[str, Any]]] = {}

    def build(
        self, ks: dict[str, Any], revision: str, variables: dict[str, str], strict: bool, make: Callable[[], Objects]
    ) -> Objects:
        """The objects of the last build when nothing it depends on changed (a failed build is not kept)."""
        spec = ks.get("spec") or {}
        secret_rt = self.store.catalog.by_kind("v1", "Secret")
        secret = ((spec.get("decryption") or {}).get("secretRef") or {}).get("name", "")
        keys = self.store.resource_version(secret_rt, ks["metadata"]["namespace"], secret) if secret_rt else None
        fingerprint = (revision, json.dumps(spec, sort_keys=True), json.dumps(variables, sort_keys=True), strict, keys)
        hit = self._builds.get(_ks_key(ks))
        if hit is not None and hit[0] == fingerprint:
            return hit[1]
        objects = make()
        self._builds[_ks_key(ks)] = (fingerprint, objects)
        return objects

    @staticmethod
    def _key(ks: dict[str, Any], desired: dict[str, Any]) -> Hashable:
        meta = desired.get("metadata") or {}
        return (*_ks_key(ks), desired["apiVersion"], desired["kind"], meta.get("namespace"), meta.get("name"))

    def unchanged(self, ks: dict[str, Any], desired: dict[str, Any], rt: ResourceType) -> dict[str, Any] | None:
        """The object as last applied, if this very desired object was applied and nobody wrote it since."""
        meta = desired.get("metadata") or {}
        namespace = (
            (meta.get("namespace") or (ks.get("spec") or {}).get("targetNamespace") or "default")
            if (rt.namespaced)
            else None
        )
        live = self.store.resource_version(rt, namespace, meta.get("name", ""))
        hit = self._applied.get(self._key(ks, desired))
        if hit is None or live is None or hit[0] is not desired or hit[1] != live:
            return None
        return hit[2]

    def remember(self, ks: dict[str, Any], desired: dict[str, Any], applied: dict[str, Any]) -> None:
        self._applied[self._key(ks, desired)] = (desired, applied["metadata"].get("resourceVersion"), applied)
