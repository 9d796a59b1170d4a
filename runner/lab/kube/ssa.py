"""Server-side apply as field ownership: who set which field, and what a new apply config changes.

Fields are tracked as leaf paths (tuples of map keys). Lists are atomic: a list is owned and replaced as
a whole (the real server merges lists keyed by `name` etc.; whole-list ownership is coarser but gives the
same answers for the manifests the lab applies). Managers are keyed by (name, operation) as in
`metadata.managedFields`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str, ...]

# Fields that identify an object or are set by the server: never owned by a manager.
_IDENTITY = {("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace")}
_SERVER_SET = {"resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink"}


@dataclass
class Manager:
    api_version: str
    fields: set[Path] = field(default_factory=set)
    time: str = ""


Managers = dict[tuple[str, str], Manager]  # (manager, "Apply" | "Update") -> fields


def leaf_paths(obj: Any, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    if isinstance(obj, dict) and obj:
        for key, value in obj.items():
            path = (*prefix, key)
            if path in _IDENTITY or (prefix == ("metadata",) and key in _SERVER_SET):
                continue
            if prefix == () and key == "status":
                continue
            out |= leaf_paths(value, path) if isinstance(value, dict) and value else {path}
    return out


_MISSING = object()


def get_path(obj: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return _MISSING
        obj = obj[key]
    return obj


def set_path(obj: dict[str, Any], path: Path, value: Any) -> None:
    for key in path[:-1]:
        if not isinstance(obj.get(key), dict):
            obj[key] = {}  # a scalar (or list) replaced by a map
        obj = obj[key]
    obj[path[-1]] = copy.deepcopy(value)


def delete_path(obj: dict[str, Any], path: Path) -> None:
    """Remove a field and any maps it leaves empty."""
    parents = []
    cur: Any = obj
    for key in path[:-1]:
        if not isinstance(cur, dict) or key not in cur:
            return
        parents.append((cur, key))
        cur = cur[key]
    if isinstance(cur, dict):
        cur.pop(path[-1], None)
    for parent, key in reversed(parents):
        if parent[key] == {}:
            del parent[key]
        else:
            break


def _related(a: Path, b: Path) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def dotted(path: Path) -> str:
    return "".join(f".{p}" for p in path)


def apply(
    live: dict[str, Any] | None,
    config: dict[str, Any],
    managers: Managers,
    manager: str,
    force: bool,
    now: str,
) -> tuple[dict[str, Any], Managers, list[tuple[str, str, str]]]:
    """Merge an apply config into the live object.

    Returns (new object, new managers, conflicts). With conflicts and no force nothing changes; the caller
    turns them into a 409. With force the conflicting fields move to `manager`.
    """
    new_paths = leaf_paths(config)
    managers = {k: Manager(v.api_version, set(v.fields), v.time) for k, v in managers.items()}
    base = copy.deepcopy(live) if live is not None else {}
    conflicts: list[tuple[str, str, Path]] = []
    for (name, op), entry in sorted(managers.items()):
        if (name, op) == (manager, "Apply"):
            continue
        for path in sorted(entry.fields):
            # A field conflicts when the config sets it, or something inside or above it, to another value.
            if any(_related(path, p) for p in new_paths) and get_path(base, path) != get_path(config, path):
                conflicts.append((name, entry.api_version, path))
    if conflicts and not force:
        return base, managers, [(m, v, dotted(p)) for m, v, p in conflicts]
    for name, _, path in conflicts:
        for (other, _op), entry in managers.items():
            if other == name:
                entry.fields.discard(path)
    previous = managers.get((manager, "Apply"), Manager(config.get("apiVersion", ""))).fields
    others = set().union(*(e.fields for k, e in managers.items() if k != (manager, "Apply")))
    for path in previous - new_paths - others:
        delete_path(base, path)
    for path in new_paths:
        set_path(base, path, get_path(config, path))
    if new_paths != previous or (manager, "Apply") not in managers:
        managers[(manager, "Apply")] = Manager(config.get("apiVersion", ""), new_paths, now)
    return base, {k: v for k, v in managers.items() if v.fields}, []


def record_update(
    old: dict[str, Any] | None, new: dict[str, Any], managers: Managers, manager: str, api_version: str, now: str
) -> Managers:
    """After a PUT/POST/merge-patch: the writer owns every field it changed; removed fields are owned by no one."""
    managers = {k: Manager(v.api_version, set(v.fields), v.time) for k, v in managers.items()}
    new_paths = leaf_paths(new)
    old_paths = leaf_paths(old) if old is not None else set()
    changed = {p for p in new_paths if old is None or get_path(old, p) != get_path(new, p)}
    gone = old_paths - new_paths
    for entry in managers.values():
        entry.fields -= changed | gone
    if changed:
        key = (manager, "Update")
        entry = managers.setdefault(key, Manager(api_version, set(), now))
        entry.fields |= changed
        entry.time = now
    return {k: v for k, v in managers.items() if v.fields}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def render_managed_fields(managers: Managers) -> list[dict[str, Any]]:
    out = []
    for (name, op), entry in sorted(managers.items()):
        tree: dict[str, Any] = {}
        for path in sorted(entry.fields):
            node = tree
            for key in path:
                node = node.setdefault(f"f:{key}", {})
        out.append(
            {
                "manager": name,
                "operation": op,
                "apiVersion": entry.api_version,
                "time": entry.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": tree,
            }
        )
    return out
