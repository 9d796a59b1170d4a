"""Talos's strategic merge of a config patch into the config's documents.

Documents (pkg/machinery/config/configpatcher/strategic.go@v1.13.9): a patch's v1alpha1 document merges into the
v1alpha1 one, any other document into the one of the same kind and name, or is added when there is none.
Fields (pkg/machinery/config/merge/merge.go@v1.11.6, the same at v1.13.9): a map merges key by key, a scalar
from the patch replaces (false too), a list is appended to, except where the field says `merge:"replace"`
(podSubnets, serviceSubnets, auditPolicy: v1alpha1_types.go) and the network interfaces, which merge by
interface name (NetworkDeviceList.Merge, v1alpha1_network.go).
"""

from __future__ import annotations

import copy
from typing import Any

REPLACED = {("cluster", "network", "podSubnets"), ("cluster", "network", "serviceSubnets")}
REPLACED_MAPS = {("cluster", "apiServer", "auditPolicy")}
BY_INTERFACE = ("machine", "network", "interfaces")


def _merge(left: Any, right: Any, path: tuple[str, ...]) -> Any:
    if path in REPLACED_MAPS:
        return copy.deepcopy(right)
    if isinstance(left, dict) and isinstance(right, dict):
        out = dict(left)
        for key, value in right.items():
            out[key] = _merge(left[key], value, (*path, key)) if key in left else copy.deepcopy(value)
        return out
    if isinstance(left, list) and isinstance(right, list):
        if path in REPLACED:
            return copy.deepcopy(right) if right else left
        if path == BY_INTERFACE:
            out_list = [dict(item) for item in left]
            for item in right:
                same = next((i for i, o in enumerate(out_list) if o.get("interface") == item.get("interface")), None)
                if same is None:
                    out_list.append(copy.deepcopy(item))
                else:
                    out_list[same] = _merge(out_list[same], item, (*path, "[]"))
            return out_list
        return [*left, *copy.deepcopy(right)]
    if not isinstance(right, bool) and right in ("", 0, None):  # a zero value leaves the left one
        return left
    return copy.deepcopy(right)


def strategic_merge(document: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    return _merge(document, patch, ())


def _identity(document: dict[str, Any]) -> tuple[str, str]:
    return str(document.get("kind", "v1alpha1")), str(document.get("name", ""))


def merge_documents(documents: list[dict[str, Any]], patch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = list(documents)
    for part in patch:
        same = next((i for i, d in enumerate(out) if _identity(d) == _identity(part)), None)
        if same is None:
            out.append(copy.deepcopy(part))
        else:
            out[same] = strategic_merge(out[same], part) if "kind" not in part else _merge(out[same], part, ("doc",))
    return out
