"""A plain `kustomize build` over a git tree: resources (files and directories) and namespace.

When a directory has no kustomization.yaml, kustomize-controller generates one listing every manifest
below it; this does the same. Remote bases are not supported (the lab has no network).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from . import yaml12
from .gitsource import Tree

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_ALLOWED = {"apiVersion", "kind", "resources", "namespace", "commonLabels", "labels", "commonAnnotations"}


class BuildError(Exception):
    pass


def _join(base: str, rel: str) -> str:
    parts: list[str] = [p for p in base.strip("/").split("/") if p and p != "."]
    for p in rel.split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            if parts:
                parts.pop()
        else:
            parts.append(p)
    return "/".join(parts)


def load_yaml_docs(text: bytes, path: str) -> list[dict[str, Any]]:
    return copy.deepcopy(_parse(text, path))


@functools.lru_cache(maxsize=512)
def _parse(text: bytes, path: str) -> list[dict[str, Any]]:
    # Files are re-read on every reconcile; the same blob always parses the same way.
    try:
        docs = [d for d in yaml12.load_all(text) if d is not None]
    except yaml12.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise BuildError(f"MalformedYAMLError: yaml: {line}{problem} in File: {path}") from e
    for doc in docs:
        if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
            raise BuildError(f"missing Resource metadata: apiVersion and kind are required in {path}")
    return docs


def build(tree: Tree, path: str) -> list[dict[str, Any]]:
    path = _join("", path)
    if not tree.is_dir(path):
        raise BuildError(f"kustomization path not found: stat {path}: no such file or directory")
    objects = _build_dir(tree, path, depth=0)
    seen: set[tuple[str, str, str, str]] = set()
    for obj in objects:
        meta = obj.get("metadata") or {}
        ident = (obj["apiVersion"].rpartition("/")[0], obj["kind"], meta.get("namespace", ""), meta.get("name", ""))
        if ident in seen:
            raise BuildError(
                f"kustomize build failed: may not add resource with an already registered id: "
                f"{obj['kind']}.{obj['apiVersion']}.[noGrp]/{ident[3]}.{ident[2] or '[noNs]'}"
            )
        seen.add(ident)
    return objects


def _kustomization_file(tree: Tree, directory: str) -> str | None:
    for name in KUSTOMIZATION_FILES:
        candidate = _join(directory, name)
        if tree.is_file(candidate):
            return candidate
    return None


def _build_dir(tree: Tree, directory: str, depth: int) -> list[dict[str, Any]]:
    if depth > 20:
        raise BuildError(f"kustomize build failed: cycle detected at {directory}")
    kfile = _kustomization_file(tree, directory)
    if kfile is None:
        files = [f for f in tree.walk(directory) if f.endswith((".yaml", ".yml"))]
        return [doc for f in files for doc in load_yaml_docs(tree.read(f), f)]
    docs = load_yaml_docs(tree.read(kfile), kfile)
    if len(docs) != 1:
        raise BuildError(f"kustomize build failed: {kfile}: expected exactly one Kustomization")
    spec = docs[0]
    unknown = sorted(set(spec) - _ALLOWED)
    if unknown:
        raise BuildError(f"kustomize build failed: {kfile}: fields not supported by the lab: {', '.join(unknown)}")
    objects: list[dict[str, Any]] = []
    for rel in spec.get("resources") or []:
        if "://" in rel or rel.startswith(("github.com/", "git@")):
            raise BuildError(f"kustomize build failed: {kfile}: remote resource '{rel}' is not supported")
        target = _join(directory, rel)
        if tree.is_dir(target):
            objects.extend(_build_dir(tree, target, depth + 1))
        elif tree.is_file(target):
            objects.extend(load_yaml_docs(tree.read(target), target))
        else:
            raise BuildError(
                f"kustomize build failed: accumulating resources: accumulation err='accumulating resources from "
                f"'{rel}': open {target}: no such file or directory': must build at directory: not a valid "
                f"directory: evalsymlink failure on '{target}' : lstat {target}: no such file or directory"
            )
    labels = dict(spec.get("commonLabels") or {})
    for entry in spec.get("labels") or []:
        labels.update(entry.get("pairs") or {})
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        if spec.get("namespace") and obj["kind"] not in _CLUSTER_KINDS:
            meta["namespace"] = spec["namespace"]
        if labels:
            meta.setdefault("labels", {}).update(labels)
        if spec.get("commonAnnotations"):
            meta.setdefault("annotations", {}).update(spec["commonAnnotations"])
    return objects


# Kinds kustomize knows are cluster-scoped (it never sets a namespace on them).
_CLUSTER_KINDS = {
    "Namespace",
    "Node",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "ClusterIssuer",
    "IngressClass",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
}
