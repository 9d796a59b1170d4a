"""Reading Flux's (and kstatus') verdict from an object's status, without I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["ready", "pending", "failed"]

# Ready=False reasons that mean "still converging", not "broken": keep waiting.
WAITING_REASONS = {"DependencyNotReady", "Progressing", "ProgressingWithRetry", "ArtifactFailed", ""}


@dataclass(frozen=True)
class FluxStatus:
    kind: str
    namespace: str
    name: str
    verdict: Verdict
    reason: str
    message: str
    last_applied_revision: str | None = None
    last_handled_request: str | None = None  # status.lastHandledReconcileAt: the last reconcile request seen


def _condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return dict(c)
    return None


def flux_status(obj: dict[str, Any]) -> FluxStatus:
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    current = status.get("observedGeneration") == meta.get("generation")
    ready, stalled = _condition(obj, "Ready"), _condition(obj, "Stalled")
    reason, message = (ready or {}).get("reason", ""), (ready or {}).get("message", "")
    verdict: Verdict = "pending"
    if stalled is not None and stalled.get("status") == "True":
        verdict, reason, message = "failed", stalled.get("reason", reason), stalled.get("message", message)
    elif ready is not None and current:
        if ready.get("status") == "True":
            verdict = "ready"
        elif ready.get("status") == "False" and reason not in WAITING_REASONS:
            verdict = "failed"
    return FluxStatus(
        obj.get("kind", ""),
        meta.get("namespace", ""),
        meta.get("name", ""),
        verdict,
        reason,
        message,
        status.get("lastAppliedRevision"),
        status.get("lastHandledReconcileAt"),
    )


def workload_status(obj: dict[str, Any]) -> FluxStatus:
    """kstatus for Deployments/DaemonSets/StatefulSets: Current once every replica is updated and ready."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    if obj.get("kind") == "DaemonSet":
        want, have = status.get("desiredNumberScheduled", 0), status.get("numberReady", 0)
    else:
        want, have = spec.get("replicas", 1), status.get("readyReplicas", 0)
    current = status.get("observedGeneration") == meta.get("generation")
    verdict: Verdict = "ready" if current and have >= want else "pending"
    return FluxStatus(
        obj.get("kind", ""),
        meta.get("namespace", ""),
        meta.get("name", ""),
        verdict,
        "Current" if verdict == "ready" else "InProgress",
        f"{have}/{want} ready",
    )


def node_ready(node: dict[str, Any]) -> bool:
    ready = _condition(node, "Ready")
    return ready is not None and ready.get("status") == "True"
