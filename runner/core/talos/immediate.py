"""Which machine-config differences Talos applies only with a reboot (pure; no I/O).

machined's `CanApplyImmediate` (siderolabs/talos internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go,
the same list at v1.11.2, v1.12.11 and v1.13.9): the v1alpha1 document may change in `debug`, `cluster` and
the fields below without a reboot; any other v1alpha1 difference needs one (apply-config `auto` then reboots,
`no-reboot` refuses). Other documents (HostnameConfig, LinkConfig, ...) never need one.
"""

from __future__ import annotations

from typing import Any

IMMEDIATE_TOP = frozenset({"debug", "cluster"})
IMMEDIATE_MACHINE = frozenset(
    {
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
    }
)
IMMEDIATE_FEATURES = frozenset(
    {"kubernetesTalosAPIAccess", "kubePrism", "hostDNS", "imageCache", "nodeAddressSortAlgorithm"}
)


def _v1alpha1(documents: list[Any]) -> dict[str, Any]:
    found = next((d for d in documents if isinstance(d, dict) and d.get("version") == "v1alpha1"), None)
    return found if isinstance(found, dict) else {}


def _differing(old: dict[str, Any], new: dict[str, Any], skip: frozenset[str], prefix: str) -> list[str]:
    return [
        f"{prefix}{key}" for key in sorted(old.keys() | new.keys()) if key not in skip and old.get(key) != new.get(key)
    ]


def reboot_paths(current: list[Any], new: list[Any]) -> list[str]:
    """The v1alpha1 paths whose change needs a reboot, sorted; [] when Talos applies `new` at once."""
    old_doc, new_doc = _v1alpha1(current), _v1alpha1(new)
    paths = _differing(old_doc, new_doc, IMMEDIATE_TOP | {"machine"}, "")
    old_machine, new_machine = old_doc.get("machine") or {}, new_doc.get("machine") or {}
    if not (isinstance(old_machine, dict) and isinstance(new_machine, dict)):
        return sorted([*paths, "machine"]) if old_machine != new_machine else paths
    paths += _differing(old_machine, new_machine, IMMEDIATE_MACHINE | {"features"}, "machine.")
    old_features, new_features = old_machine.get("features") or {}, new_machine.get("features") or {}
    if isinstance(old_features, dict) and isinstance(new_features, dict):
        paths += _differing(old_features, new_features, IMMEDIATE_FEATURES, "machine.features.")
    elif old_features != new_features:
        paths.append("machine.features")
    return sorted(paths)
