"""The twin's object storage: create, read, list, replace, apply, merge-patch, delete.

One global resourceVersion counter like etcd's revision; a write that changes nothing (a repeated apply)
keeps the object's resourceVersion, which is how clients can tell a no-op from a change. What a written body
becomes before it is stored is strategy.py's.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import errors, ssa, strategy
from .catalog import Catalog, ResourceType, type_from_crd
from .codec import Codec

Key = tuple[str, str, str, str]  # group, plural, namespace ("" for cluster scope), name


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Stored:
    obj: dict[str, Any]
    managers: ssa.Managers
    version: str = ""  # the storage version it was encoded at when written (what etcd holds)


def key_of(rt: ResourceType, namespace: str | None, name: str) -> Key:
    return (rt.group, rt.plural, namespace or "" if rt.namespaced else "", name)


class Store:
    def __init__(self, catalog: Catalog, kubernetes_version: str = "v1.32.1") -> None:
        self.catalog = catalog
        self.codec = Codec(kubernetes_version)
        self.lock = threading.RLock()
        self.revision = 0
        self._objects: dict[Key, Stored] = {}
        self.on_change: list[Callable[[], None]] = []

    def set_kubernetes_version(self, version: str) -> None:
        """Decode and validate as that release does (its OpenAPI definitions change only with the minor)."""
        with self.lock:
            if Codec.minor_of(version) != self.codec.minor:
                self.codec = Codec(version)

    # reads ---------------------------------------------------------------------------------------
    def get(self, rt: ResourceType, namespace: str | None, name: str, version: str | None = None) -> dict[str, Any]:
        with self.lock:
            return self._render(rt, self._existing(rt, namespace, name), version)

    def find(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None:
        try:
            return self.get(rt, namespace, name)
        except errors.ApiStatusError:
            return None

    def resource_version(self, rt: ResourceType, namespace: str | None, name: str) -> str | None:
        """The stored object's resourceVersion (None when absent), without copying the object."""
        with self.lock:
            stored = self._objects.get(key_of(rt, namespace, name))
            return None if stored is None else stored.obj["metadata"].get("resourceVersion")

    def list(self, rt: ResourceType, namespace: str | None, version: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                self._render(rt, s, version)
                for (g, p, ns, _), s in sorted(self._objects.items())
                if (g, p) == (rt.group, rt.plural) and (namespace is None or ns == namespace)
            ]

    def _render(self, rt: ResourceType, stored: Stored, version: str | None) -> dict[str, Any]:
        obj = copy.deepcopy(stored.obj)
        obj["apiVersion"] = rt.api_version(version or rt.preferred_version)
        if stored.managers:
            obj["metadata"]["managedFields"] = ssa.render_managed_fields(stored.managers)
        return obj

    # writes --------------------------------------------------------------------------------------
    def create(self, rt: ResourceType, namespace: str | None, body: dict[str, Any], manager: str) -> dict[str, Any]:
        with self.lock:
            name = strategy.check_identity(rt, namespace, body, None)
            if key_of(rt, namespace, name) in self._objects:
                raise errors.already_exists(rt, name)
            self.codec.check_body(rt, body)
            obj = self._prepare(rt, namespace, body, None)
            managers = ssa.record_update(None, obj, {}, manager, body.get("apiVersion", ""), now())
            return self._commit(rt, namespace, name, obj, managers, None)

    def replace(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: dict[str, Any],
        manager: str,
        status: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            strategy.check_identity(rt, namespace, body, name)
            current = self._existing(rt, namespace, name)
            wanted_rv = (body.get("metadata") or {}).get("resourceVersion")
            if wanted_rv and wanted_rv != current.obj["metadata"]["resourceVersion"]:
                raise errors.stale_version(rt, name)
            self.codec.check_body(rt, body)
            return self._update(rt, namespace, name, current, body, manager, body.get("apiVersion", ""), status)

    def merge_patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        patch: dict[str, Any],
        manager: str,
        status: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            current = self._existing(rt, namespace, name)
            merged = ssa.merge_patch(current.obj, patch)
            self.codec.check_patched(rt, merged)
            return self._update(rt, namespace, name, current, merged, manager, None, status)

    def apply(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        config: dict[str, Any],
        manager: str,
        force: bool,
        status: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            strategy.check_identity(rt, namespace, config, name)
            self.codec.check_applied(rt, name, config)
            current = self._objects.get(key_of(rt, namespace, name))
            if current is None and namespace and rt.namespaced:
                self._require_namespace(namespace)
            if status:
                # Applying to /status: ownership of status fields is not tracked, it merges like a patch.
                return self.merge_patch(rt, namespace, name, {"status": config.get("status", {})}, manager, True)
            config = strategy.normalize(rt, config)
            merged, managers, conflicts = ssa.apply(
                current.obj if current else None, config, current.managers if current else {}, manager, force, now()
            )
            if conflicts:
                raise errors.apply_conflict(rt, name, conflicts)
            merged.setdefault("metadata", {})["name"] = name
            merged["apiVersion"] = config.get("apiVersion") or rt.api_version(rt.preferred_version)
            obj = self._prepare(rt, namespace, merged, current.obj if current else None)
            return self._commit(rt, namespace, name, obj, managers, current)

    def delete(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        with self.lock:
            key = key_of(rt, namespace, name)
            if key not in self._objects:
                raise errors.not_found(rt, name)
            stored = self._objects.pop(key)
            if rt.kind == "Namespace":
                for k in [k for k in self._objects if k[2] == name]:
                    del self._objects[k]
            if rt.kind == "CustomResourceDefinition":
                gone = type_from_crd(stored.obj)
                self.catalog.unregister(gone.group, gone.plural)
                for k in [k for k in self._objects if (k[0], k[1]) == (gone.group, gone.plural)]:
                    del self._objects[k]
            self.revision += 1
            self._changed()
            return {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": {"name": name, "group": rt.group, "kind": rt.plural, "uid": stored.obj["metadata"]["uid"]},
            }

    def set_status(self, rt: ResourceType, namespace: str | None, name: str, status: dict[str, Any]) -> bool:
        """Controllers' status writes (the lab's own). Returns whether anything changed."""
        with self.lock:
            current = self._objects.get(key_of(rt, namespace, name))
            if current is None or current.obj.get("status") == status:
                return False
            obj = {**current.obj, "status": copy.deepcopy(status)}
            obj["metadata"] = {**obj["metadata"]}
            self._commit(rt, namespace, name, obj, current.managers, current)
            return True

    # helpers -------------------------------------------------------------------------------------
    def _existing(self, rt: ResourceType, namespace: str | None, name: str) -> Stored:
        stored = self._objects.get(key_of(rt, namespace, name))
        if stored is None:
            raise errors.not_found(rt, name)
        return stored

    def _update(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        current: Stored,
        body: dict[str, Any],
        manager: str,
        api_version: str | None,
        status: bool,
    ) -> dict[str, Any]:
        """Write `body` over an existing object (a PUT, or a merge patch once merged); `manager` takes the
        fields it changed, recorded under `api_version` (None: the written object's own)."""
        obj = strategy.merge_subresource(rt, current.obj, body, status)
        obj = self._prepare(rt, namespace, obj, current.obj, status)
        version = obj.get("apiVersion", "") if api_version is None else api_version
        managers = ssa.record_update(current.obj, obj, current.managers, manager, version, now())
        return self._commit(rt, namespace, name, obj, managers, current)

    def _prepare(
        self,
        rt: ResourceType,
        namespace: str | None,
        obj: dict[str, Any],
        old: dict[str, Any] | None,
        status: bool = False,
    ) -> dict[str, Any]:
        obj = strategy.normalize(rt, obj)
        if old is None and rt.namespaced:  # a missing namespace is answered before the body's problems
            self._require_namespace(namespace or "")
        return strategy.admit(rt, namespace, obj, old, now(), self.codec, status)

    def _require_namespace(self, namespace: str) -> None:
        if ("", "namespaces", "", namespace) not in self._objects:
            raise errors.namespace_not_found(namespace)

    def _commit(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        obj: dict[str, Any],
        managers: ssa.Managers,
        current: Stored | None,
    ) -> dict[str, Any]:
        key = key_of(rt, namespace, name)
        # etcd3 GuaranteedUpdate skips a write whose encoded bytes are unchanged; an object persisted at an older
        # version re-encodes differently, so rewriting it (`flux migrate`'s empty patch) moves it to storage.
        version = rt.versions[0] if rt.versions else ""
        if current is not None:
            same = _without_rv(obj) == _without_rv(current.obj) and _fields(managers) == _fields(current.managers)
            if same and current.version == version:
                return self._render(rt, current, None)
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        stored = Stored(obj, managers, version)
        self._objects[key] = stored
        if rt.kind == "CustomResourceDefinition":
            self.catalog.register(type_from_crd(obj))
        self._changed()
        return self._render(rt, stored, None)

    def _changed(self) -> None:
        for callback in self.on_change:
            callback()


def _without_rv(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
    return {**{k: v for k, v in obj.items() if k != "apiVersion"}, "metadata": meta}


def _fields(managers: ssa.Managers) -> dict[tuple[str, str], set[ssa.Path]]:
    return {k: v.fields for k, v in managers.items()}
