"""COSI resources `talosctl get` can read from a simulated node (the few the runner needs)."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the talosctl twin imports this module and must start fast
    from runner.lab.talos.lab import TalosLab
    from runner.lab.talos.node import SimNode

# canonical type -> (namespace, display type, aliases, table columns (title, spec key))
RESOURCE_TYPES: dict[str, tuple[str, str, tuple[str, ...], tuple[tuple[str, str], ...]]] = {
    "MachineConfigs.config.talos.dev": ("config", "MachineConfig", ("machineconfig", "machineconfigs", "mc"), ()),
    "MachineStatuses.runtime.talos.dev": (
        "runtime",
        "MachineStatus",
        ("machinestatus", "machinestatuses", "ms"),
        (("STAGE", "stage"), ("READY", "ready")),
    ),
    "ExtensionStatuses.runtime.talos.dev": (
        "runtime",
        "ExtensionStatus",
        ("extensions", "extension", "extensionstatus", "extensionstatuses"),
        (("NAME", "metadata.name"), ("VERSION", "metadata.version")),
    ),
    "Members.cluster.talos.dev": (
        "cluster",
        "Member",
        ("member", "members"),
        (
            ("HOSTNAME", "hostname"),
            ("MACHINE TYPE", "machineType"),
            ("OS", "operatingSystem"),
            ("ADDRESSES", "addresses"),
        ),
    ),
}


def resolve_type(name: str) -> str | None:
    lowered = name.lower()
    for canonical, (_, display, aliases, _) in RESOURCE_TYPES.items():
        if lowered in (canonical.lower(), display.lower(), *aliases):
            return canonical
    return None


def _metadata(namespace: str, rtype: str, rid: str, version: int) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "namespace": namespace,
        "type": rtype,
        "id": rid,
        "version": version,
        "owner": None,
        "phase": "running",
        "created": now,
        "updated": now,
    }


def list_resources(lab: TalosLab, node: SimNode, rtype: str) -> list[dict[str, Any]]:
    namespace = RESOURCE_TYPES[rtype][0]
    if rtype == "MachineConfigs.config.talos.dev":
        if node.config is None:
            return []
        return [{"metadata": _metadata(namespace, rtype, "v1alpha1", 1), "spec": node.config.raw}]
    if rtype == "MachineStatuses.runtime.talos.dev":
        # Only maintenance and running machines answer at all, so those are the stages ever reported.
        status = {"stage": node.phase, "status": {"ready": node.phase == "running", "unmetConditions": []}}
        return [{"metadata": _metadata(namespace, rtype, "machine", 1), "spec": status}]
    if rtype == "ExtensionStatuses.runtime.talos.dev":
        return [
            {"metadata": _metadata(namespace, rtype, str(i), 1), "spec": spec}
            for i, spec in enumerate(installed_extensions(node))
        ]
    # Members: discovery lists the running machines of the same cluster, through the discovery service; without
    # it (and with the Kubernetes registry disabled, as the runner's configs do) a node knows only itself.
    if node.config is None:
        return []
    out = []
    for peer in lab.discovered(node) if lab.discovery_service else [node]:
        spec: dict[str, Any] = {
            "nodeId": peer.boot_id[:32],
            "addresses": [peer.ip],
            "hostname": peer.hostname,
            "machineType": peer.config.machine_type if peer.config else "unknown",
            "operatingSystem": f"Talos ({peer.version})",
        }
        out.append({"metadata": _metadata(namespace, rtype, peer.hostname, 1), "spec": spec})
    return out


_FACTORY_IMAGE = re.compile(r"/(?:[a-z0-9]+-)?installer(?:-secureboot)?/(?P<id>[0-9a-f]{64}):")


def installed_extensions(node: SimNode) -> list[dict[str, Any]]:
    """Image Factory installers carry a `schematic` extension whose version is the schematic id."""
    match = _FACTORY_IMAGE.search(node.installer_image or "")
    if match is None:
        return []
    return [
        {
            "image": "",
            "metadata": {
                "name": "schematic",
                "version": match["id"],
                "description": "Describes the Image Factory schematic used to build this Talos image.",
            },
        }
    ]
