"""The clusters overview as view models: a cluster snapshot and its last run turned into rows (pure, no I/O).

Everything comes from the snapshot the engine recorded and the journal, both already free of secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NodeView:
    name: str
    role: str
    ip: str
    vmid: int | str
    vm: str
    talos: str
    talos_version: str
    kubernetes_version: str
    size: str
    in_sync: bool
    status: str  # "Ready" only when the VM runs, Talos runs and nothing is pending for the node
    tone: str


def node_status(node: dict[str, Any]) -> tuple[str, str]:
    vm, talos = node.get("vm") or "absent", node.get("talos") or "unreachable"
    if vm == "absent":
        return "Missing", "fail"
    if vm != "running":
        return f"VM {vm}", "fail"
    if talos != "running":
        return f"Talos {talos}", "warn"
    if not node.get("in_sync"):
        return "Out of sync", "warn"
    return "Ready", "ok"


def node_view(node: dict[str, Any]) -> NodeView:
    status, tone = node_status(node)
    cores, memory = node.get("cores"), node.get("memory_mib")
    return NodeView(
        name=str(node.get("name", "?")),
        role=str(node.get("role", "-")),
        ip=str(node.get("ip", "-")),
        vmid=node.get("vmid", "-"),
        vm=str(node.get("vm") or "absent"),
        talos=str(node.get("talos") or "unreachable"),
        talos_version=str(node.get("talos_version") or "-"),
        kubernetes_version=str(node.get("kubernetes_version") or "-"),
        size=f"{cores} cores, {memory} MiB" if cores and memory else "-",
        in_sync=bool(node.get("in_sync")),
        status=status,
        tone=tone,
    )


@dataclass(frozen=True)
class ClusterView:
    name: str
    nodes: list[NodeView]
    endpoint: str
    bootstrapped: bool | None
    flux: str
    flux_tone: str
    handoff: str
    drift: list[str]
    conflicts: list[str]
    pending: int
    last_run: dict[str, Any] | None
    last_applied: str | None
    queued: list[dict[str, Any]]
    observed: bool

    @property
    def ready_count(self) -> int:
        return sum(1 for n in self.nodes if n.status == "Ready")


def flux_status(snap: dict[str, Any]) -> tuple[str, str]:
    version = snap.get("flux_version")
    if not version:
        return "not installed", "muted"
    if snap.get("kustomizations_ready"):
        return f"{version}, Kustomizations Ready", "ok"
    return f"{version}, Kustomizations not ready", "warn"


def cluster_view(
    name: str,
    snap: dict[str, Any] | None,
    last_run: dict[str, Any] | None,
    last_applied: str | None,
    queued: list[dict[str, Any]],
) -> ClusterView:
    snap = snap or {}
    flux, flux_tone = flux_status(snap)
    handoff = snap.get("handoff")
    return ClusterView(
        name=name,
        nodes=[node_view(n) for n in snap.get("nodes") or []],
        endpoint=str(snap.get("endpoint") or "-"),
        bootstrapped=snap.get("bootstrapped"),
        flux=flux,
        flux_tone=flux_tone,
        handoff="recorded (Flux owns in-cluster objects)" if handoff else "not yet",
        drift=[str(d) for d in snap.get("drift") or []],
        conflicts=[str(c) for c in snap.get("conflicts") or []],
        pending=len(snap.get("pending_steps") or []),
        last_run=last_run,
        last_applied=last_applied,
        queued=queued,
        observed=bool(snap),
    )
