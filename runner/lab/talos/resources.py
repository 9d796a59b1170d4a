"""COSI resources `talosctl get` can read from a simulated node (the few the runner needs)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
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
    "Manifests.kubernetes.talos.dev": ("controlplane", "Manifest", ("manifest", "manifests"), (("ID", "metadata.id"),)),
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


# COSI state lives in memory: a resource's version counts its updates since it was created in this boot,
# and `created` is when this boot created it. Tracked per boot id, so a reboot starts both afresh; kept by each
# lab, so two labs in one process (one test worker) never see each other's boots of the same address.
@dataclass
class CosiState:
    booted_at: dict[str, str] = field(default_factory=dict)  # boot id -> when MachineStatus was created
    last_boot: dict[str, dt.datetime] = field(default_factory=dict)  # node ip -> its latest boot's creation time
    config_versions: dict[str, tuple[str, int]] = field(default_factory=dict)  # boot id -> (config text, version)


_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # RFC 3339 in whole seconds, as COSI prints metadata times


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime(_TIME_FORMAT)


def _booted_at(cosi: CosiState, node: SimNode) -> str:
    """A real reboot takes longer than a second; the lab's take less, so each boot gets a later second."""
    if node.boot_id not in cosi.booted_at:
        at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        previous = cosi.last_boot.get(node.ip)
        if previous is not None and at <= previous:
            at = previous + dt.timedelta(seconds=1)
        cosi.last_boot[node.ip] = at
        cosi.booted_at[node.boot_id] = at.strftime(_TIME_FORMAT)
    return cosi.booted_at[node.boot_id]


def _config_version(cosi: CosiState, node: SimNode, raw: str) -> int:
    text, version = cosi.config_versions.get(node.boot_id, (raw, 1))
    if text != raw:
        version += 1  # an apply-config or edit updated the resource
    cosi.config_versions[node.boot_id] = (raw, version)
    return version


def _metadata(namespace: str, rtype: str, rid: str, version: int, created: str | None = None) -> dict[str, Any]:
    now = _now()
    return {
        "namespace": namespace,
        "type": rtype,
        "id": rid,
        "version": version,
        "owner": None,
        "phase": "running",
        "created": created or now,
        "updated": now,
    }


def list_resources(lab: TalosLab, node: SimNode, rtype: str) -> list[dict[str, Any]]:
    namespace = RESOURCE_TYPES[rtype][0]
    if rtype == "MachineConfigs.config.talos.dev":
        if node.config is None:
            return []
        version = _config_version(lab.cosi, node, node.config.raw)
        return [{"metadata": _metadata(namespace, rtype, "v1alpha1", version), "spec": node.config.raw}]
    if rtype == "MachineStatuses.runtime.talos.dev":
        # Only maintenance and running machines answer at all, so those are the stages ever reported.
        status = {"stage": node.phase, "status": {"ready": node.phase == "running", "unmetConditions": []}}
        booted = _booted_at(lab.cosi, node)
        return [{"metadata": _metadata(namespace, rtype, "machine", 1, booted), "spec": status}]
    if rtype == "ExtensionStatuses.runtime.talos.dev":
        return [
            {"metadata": _metadata(namespace, rtype, str(i), 1), "spec": spec}
            for i, spec in enumerate(installed_extensions(node))
        ]
    if rtype == "Manifests.kubernetes.talos.dev":
        if node.config is None or not node.config.is_controlplane:
            return []  # rendered by the controllers only
        from runner.lab.talos import manifests  # kept off the talosctl start-up path

        return [
            {"metadata": _metadata(namespace, rtype, rid, 1), "spec": objects}
            for rid, objects in sorted(manifests.rendered(node.config.documents, node.version).items())
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
