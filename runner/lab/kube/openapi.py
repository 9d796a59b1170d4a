"""The OpenAPI definitions of the built-in kinds of the Kubernetes release the twin imitates.

They come from the `kubernetes-validate` package, which ships the API server's published schemas of each
minor release (generated from kubernetes/kubernetes `api/openapi-spec/swagger.json` at `v<minor>.0`) as JSON
Schema with `additionalProperties: false` (its "local-strict" flavour). Only `_definitions.json` is read:
every type by its OpenAPI name, each top-level kind tagged with `x-kubernetes-group-version-kind`.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

PACKAGE = "kubernetes_validate"


def minor_of(kubernetes_version: str) -> str:
    """`v1.32.1` -> `1.32`: the schemas change only with the minor release."""
    major, minor, *_ = kubernetes_version.lstrip("v").split(".")
    return f"{major}.{minor}"


@cache
def definitions(minor: str) -> dict[str, dict[str, Any]]:
    """Every definition of that minor release by OpenAPI name (e.g. `io.k8s.api.apps.v1.Deployment`)."""
    root = resources.files(PACKAGE) / "kubernetes-json-schema" / f"v{minor}.0-local-strict" / "_definitions.json"
    if not root.is_file():
        raise ValueError(f"no OpenAPI definitions of Kubernetes {minor} in {PACKAGE}")
    defs: dict[str, dict[str, Any]] = json.loads(root.read_text())["$defs"]
    return defs


@cache
def _kinds(minor: str) -> dict[tuple[str, str, str], str]:
    out: dict[tuple[str, str, str], str] = {}
    for name, schema in definitions(minor).items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or ():
            out.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    return out


def definition_of(minor: str, group: str, version: str, kind: str) -> str | None:
    """The OpenAPI name of a built-in kind, or None when that release does not serve it."""
    return _kinds(minor).get((group, version, kind))


OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
