"""Helm 3's check before it creates what a chart renders: an object that already exists may be taken into the
release only if its ownership metadata names that release (helm pkg/action/validate.go existingResourceConflict,
checkOwnership, requireValue; pkg/action/install.go wraps the error as "Unable to continue with install").

The twin checks the objects it renders as chart templates (those carrying Helm's release annotations); objects a
controller creates at run time (the Cilium operator's CRDs) are not Helm's and are not checked.
"""

from __future__ import annotations

from typing import Any

from .charts import MANAGED_BY, RELEASE_NAME, RELEASE_NAMESPACE


def _require(values: dict[str, str], key: str, want: str) -> str | None:
    if key not in values:
        return f'missing key "{key}": must be set to "{want}"'
    if values[key] != want:
        return f'key "{key}" must equal "{want}": current value is "{values[key]}"'
    return None


def ownership_error(existing: dict[str, Any], release_name: str, release_namespace: str) -> str | None:
    """checkOwnership: why `existing` cannot be imported into the release, or None."""
    meta = existing.get("metadata") or {}
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    errs = [f"label validation error: {e}" for e in [_require(labels, MANAGED_BY, "Helm")] if e is not None] + [
        f"annotation validation error: {e}"
        for e in (
            _require(annotations, RELEASE_NAME, release_name),
            _require(annotations, RELEASE_NAMESPACE, release_namespace),
        )
        if e is not None
    ]
    if not errs:
        return None
    kind, name, namespace = existing["kind"], meta["name"], meta.get("namespace", "")
    return (
        f'{kind} "{name}" in namespace "{namespace}" exists and cannot be imported into the current release: '
        f"invalid ownership metadata; {'; '.join(errs)}"
    )


def is_rendered_by_helm(obj: dict[str, Any]) -> bool:
    return RELEASE_NAME in ((obj.get("metadata") or {}).get("annotations") or {})
