"""The Kubernetes twin's object store as etcd's keyspace: dump to plain data, load back, or lose it.

What a real etcd snapshot holds for the API server: every object with its resourceVersion and field
managers, and the revision counter. Loading restores exactly that (CRDs re-registered, so their kinds
are served again), the way a recovered etcd brings the API server's view back.
"""

from __future__ import annotations

import copy
from typing import Any

from runner.lab.kube import ssa
from runner.lab.kube.catalog import type_from_crd
from runner.lab.kube.store import Store, Stored


def dump(store: Store) -> dict[str, Any]:
    with store.lock:
        objects = []
        for key, stored in sorted(store._objects.items()):
            managers = [
                [name, op, m.api_version, m.time, sorted(list(path) for path in m.fields)]
                for (name, op), m in stored.managers.items()
            ]
            objects.append({"key": list(key), "object": copy.deepcopy(stored.obj), "managers": managers})
        return {"revision": store.revision, "objects": objects}


def load(store: Store, data: dict[str, Any]) -> None:
    with store.lock:
        store._objects.clear()
        for item in data["objects"]:
            managers: ssa.Managers = {
                (name, op): ssa.Manager(api_version, {tuple(p) for p in fields}, time)
                for name, op, api_version, time, fields in item["managers"]
            }
            group, plural, namespace, name = item["key"]
            store._objects[(group, plural, namespace, name)] = Stored(copy.deepcopy(item["object"]), managers)
            if plural == "customresourcedefinitions":
                store.catalog.register(type_from_crd(item["object"]))
        store.revision = max(store.revision, int(data["revision"])) + 1
    store._changed()


def clear(store: Store) -> None:
    with store.lock:
        store._objects.clear()
        store.revision += 1
    store._changed()
