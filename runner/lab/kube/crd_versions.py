"""A CustomResourceDefinition's `status.storedVersions`, kept and checked as kube-apiserver does.

- create: the storage version alone (kubernetes/apiextensions-apiserver pkg/registry/customresourcedefinition/
  strategy.go `PrepareForCreate` @v0.33.13);
- update of the CRD: the status is the old one, plus the new storage version if it is not listed yet (never
  removed: objects may still be persisted in an old version; `PrepareForUpdate`);
- update of `/status`: whatever the writer sends, which is how `flux migrate` and the storage-version migrator
  drop a version once every object was rewritten (`statusStrategy.PrepareForUpdate` keeps only the status);
- every write is refused (422 Invalid) when a stored version is missing from `spec.versions`, when the storage
  version is not stored, or when none is (pkg/apis/apiextensions/validation/validation.go
  `ValidateCustomResourceDefinitionStoredVersions`).
"""

from __future__ import annotations

import copy
from typing import Any

from . import field_value

FIELD = "status.storedVersions"


def stored_versions(
    crd: dict[str, Any], old: dict[str, Any] | None, status_write: bool, fresh: dict[str, Any]
) -> dict[str, Any]:
    """The status to store; `fresh` is the status a newly accepted CRD gets (names and conditions)."""
    storage = next((v["name"] for v in crd.get("spec", {}).get("versions", []) if v.get("storage")), None)
    if old is None:
        return fresh
    if status_write:
        return copy.deepcopy(crd.get("status") or {})
    status = copy.deepcopy(old.get("status") or fresh)
    if (old.get("status") or {}).get("acceptedNames") != crd.get("spec", {}).get("names"):
        status = {**fresh, "storedVersions": list((old.get("status") or {}).get("storedVersions") or [])}
    stored = list(status.get("storedVersions") or [])
    if storage is not None and storage not in stored:
        stored.append(storage)
    status["storedVersions"] = stored
    return status


def problems(crd: dict[str, Any], minor: int) -> list[tuple[str, str]]:
    """(field, ErrorBody) for each stored-version rule the CRD breaks, as Kubernetes 1.`minor` words them."""
    given = (crd.get("status") or {}).get("storedVersions")
    stored = list(given or [])
    if not stored:
        shown = field_value.strings(None if given is None else stored, minor)
        return [(FIELD, f"Invalid value: {shown}: must have at least one stored version")]
    out = []
    remaining = {v: i for i, v in enumerate(stored)}
    for version in crd.get("spec", {}).get("versions", []):
        name = version.get("name")
        if version.get("storage") and name not in remaining:
            out.append(
                (FIELD, f"Invalid value: {field_value.strings(stored, minor)}: must have the storage version {name}")
            )
        remaining.pop(name, None)
    for v, i in remaining.items():  # Go ranges over a map: one cause per missing version
        out.append(
            (
                f"{FIELD}[{i}]",
                f'Invalid value: "{v}": missing from spec.versions; {v} was previously a storage version, and must '
                f"remain in spec.versions until a storage migration ensures no data remains persisted in {v} and "
                f"removes {v} from status.storedVersions",
            )
        )
    return out
