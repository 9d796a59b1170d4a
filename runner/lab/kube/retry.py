"""When kustomize-controller tries a failed Kustomization again.

A reconciliation that failed is scheduled again after `spec.retryInterval` (default `spec.interval`),
not at once (fluxcd/kustomize-controller#256). It runs earlier only when something it watches changes:
the object's generation, its source's revision, or a reconcile request (`reconcile.fluxcd.io/requestedAt`
differing from `status.lastHandledReconcileAt`, fluxcd/pkg apis/meta). The decryption Secret is read
on each attempt but not watched, so replacing it alone does not make a failed build run again.

The twin applies this to build failures (BuildFailed: kustomize build or SOPS decryption), whose result
depends only on those inputs and the Secret.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def duration_seconds(text: str) -> float:
    """A Go duration as Flux's API uses them (`30s`, `1m`, `1h30m`)."""
    parts = _PART.findall(text or "")
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"invalid duration {text!r}")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def _ready(status: dict[str, Any]) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})


@dataclass
class RetrySchedule:
    clock: Callable[[], float] = time.monotonic
    failed_at: dict[tuple[str, str], float] = field(default_factory=dict)

    @staticmethod
    def _key(ks: dict[str, Any]) -> tuple[str, str]:
        return ks["metadata"]["namespace"], ks["metadata"]["name"]

    def waiting(self, ks: dict[str, Any], source_revision: str | None) -> bool:
        """True while a failed build must not be tried again yet."""
        meta, spec, status = ks["metadata"], ks.get("spec") or {}, ks.get("status") or {}
        ready = _ready(status)
        if ready.get("status") != "False" or ready.get("reason") != "BuildFailed":
            return False
        if status.get("observedGeneration") != meta.get("generation"):
            return False
        if status.get("lastAttemptedRevision") != source_revision:
            return False
        requested = (meta.get("annotations") or {}).get(REQUESTED_AT)
        if requested is not None and requested != status.get("lastHandledReconcileAt"):
            return False
        failed_at = self.failed_at.get(self._key(ks))
        if failed_at is None:
            return False
        retry = duration_seconds(spec.get("retryInterval") or spec.get("interval") or "10m")
        return self.clock() - failed_at < retry

    def attempted(self, ks: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        """The status after an attempt: the request it handled, and when a build failed (for the retry)."""
        requested = (ks["metadata"].get("annotations") or {}).get(REQUESTED_AT)
        if requested is not None:
            status = {**status, "lastHandledReconcileAt": requested}
        if _ready(status).get("reason") == "BuildFailed":
            self.failed_at[self._key(ks)] = self.clock()
        else:
            self.failed_at.pop(self._key(ks), None)
        return status
