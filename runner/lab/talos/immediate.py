"""Which config changes a node applies without a reboot: Talos's CanApplyImmediate.

siderolabs/talos internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go @v1.13.9: the new v1alpha1
document, with `.debug`, `.cluster` and the machine sections listed below copied from the current one, must
equal the current one; anything else (`machine.type`, most of `machine.features`, ...) needs a reboot. The
other documents (HostnameConfig, LinkConfig, ...) are not compared.
"""

from __future__ import annotations

import copy
from typing import Any

MACHINE_IMMEDIATE = (
    "ca",
    "acceptedCAs",
    "time",
    "certSANs",
    "install",
    "network",
    "sysfs",
    "sysctls",
    "logging",
    "controlplane",
    "kubelet",
    "kernel",
    "registries",
    "pods",
    "seccompProfiles",
    "nodeAnnotations",
    "nodeLabels",
    "nodeTaints",
)
FEATURES_IMMEDIATE = ("kubernetesTalosAPIAccess", "kubePrism", "hostDNS", "imageCache", "nodeAddressSortAlgorithm")


def _v1alpha1(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return next((d for d in documents if d.get("version") == "v1alpha1" and "kind" not in d), {})


def _copy_key(new: dict[str, Any], current: dict[str, Any], key: str) -> None:
    if key in current:
        new[key] = copy.deepcopy(current[key])
    else:
        new.pop(key, None)


def can_apply_immediately(current: list[dict[str, Any]], new: list[dict[str, Any]]) -> bool:
    cur, candidate = _v1alpha1(current), copy.deepcopy(_v1alpha1(new))
    for key in ("debug", "cluster"):
        _copy_key(candidate, cur, key)
    cur_machine, new_machine = cur.get("machine"), candidate.get("machine")
    if isinstance(cur_machine, dict) and isinstance(new_machine, dict):
        for key in MACHINE_IMMEDIATE:
            _copy_key(new_machine, cur_machine, key)
        cur_features, new_features = cur_machine.get("features"), new_machine.get("features")
        if isinstance(cur_features, dict) and isinstance(new_features, dict):
            for key in FEATURES_IMMEDIATE:
                _copy_key(new_features, cur_features, key)
    return candidate == cur
