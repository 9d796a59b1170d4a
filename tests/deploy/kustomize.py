"""The part of `kustomize build` the runner's manifests use: resources, namespace, labels, images.

Enough to see the objects `kubectl apply -k deploy/kubernetes` would send; anything else in the
kustomization is refused, so a new feature there cannot slip past the tests unread.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

KNOWN = {"apiVersion", "kind", "namespace", "labels", "resources", "images"}


def _set_image(obj: dict[str, Any], images: list[dict[str, str]]) -> None:
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    for container in spec.get("containers", []) + spec.get("initContainers", []):
        for image in images:
            if container["image"] == image["name"]:
                container["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"


def build(directory: Path) -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert set(kustomization) <= KNOWN, set(kustomization) - KNOWN
    objects: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        objects += [d for d in yaml.safe_load_all((directory / resource).read_text()) if d]
    out = []
    for original in objects:
        obj = copy.deepcopy(original)
        if obj["kind"] != "Namespace" and "namespace" in kustomization:
            obj["metadata"]["namespace"] = kustomization["namespace"]
        for label in kustomization.get("labels", []):
            assert not label.get("includeSelectors") and not label.get("includeTemplates")
            obj["metadata"].setdefault("labels", {}).update(label["pairs"])
        _set_image(obj, kustomization.get("images", []))
        out.append(obj)
    return out
