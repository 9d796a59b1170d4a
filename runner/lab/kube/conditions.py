"""Flux-style status conditions (metav1.Condition), keeping lastTransitionTime stable across no-op writes, and
kstatus's reading of them."""

from __future__ import annotations

from typing import Any

from .store import now


def condition(
    previous: list[dict[str, Any]] | None, status: str, reason: str, message: str, generation: int, type_: str = "Ready"
) -> list[dict[str, Any]]:
    old = next((c for c in previous or [] if c.get("type") == type_), None)
    changed = old is None or old.get("status") != status
    return [
        {
            "type": type_,
            "status": status,
            "reason": reason,
            "message": message,
            "observedGeneration": generation,
            "lastTransitionTime": now() if changed or old is None else old["lastTransitionTime"],
        }
    ]


def ready_of(obj: dict[str, Any] | None) -> tuple[str, str, str]:
    """(status, reason, message) of the Ready condition; ("Unknown", "", "") when absent."""
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return str(c.get("status")), str(c.get("reason", "")), str(c.get("message", ""))
    return "Unknown", "", ""


def is_ready(obj: dict[str, Any] | None) -> bool:
    if obj is None:
        return False
    status = obj.get("status") or {}
    return ready_of(obj)[0] == "True" and status.get("observedGeneration") == obj["metadata"].get("generation")


def kstatus(obj: dict[str, Any]) -> str:
    """sigs.k8s.io/cli-utils `status.Compute` (v0.36) for a kind without rules of its own: a stale
    `status.observedGeneration` or `Reconciling=True` is InProgress, `Stalled=True` Failed, then a Ready condition
    that is not True is InProgress; no conditions at all is Current (so is an object its controller has not
    seen yet: kstatus cannot tell, and Flux's poll may pass it before the controller writes a status)."""
    status = obj.get("status") or {}
    if "observedGeneration" in status and status["observedGeneration"] != obj["metadata"].get("generation"):
        return "InProgress"
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    if conditions.get("Reconciling") == "True":
        return "InProgress"
    if conditions.get("Stalled") == "True":
        return "Failed"
    if conditions.get("Ready") in ("False", "Unknown"):
        return "InProgress"
    return "Current"
