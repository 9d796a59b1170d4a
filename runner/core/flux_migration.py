"""What moving a running Flux to another release takes, decided from the live objects and the new manifest
(pure: the Kubernetes driver reads and writes).

CRD stored versions. The API server refuses a CRD update whose `spec.versions` drops a version still listed in
`status.storedVersions` (apiextensions-apiserver ValidateCustomResourceDefinitionStoredVersions): objects may
still be persisted in it. Flux v2.9 serves only v1 of Bucket and OCIRepository, which v2.3 stored as v1beta2,
and no v1beta*/v2beta* of anything. `flux migrate` (fluxcd/flux2 cmd/flux/migrate.go) is run before a minor
upgrade: per Flux CRD it lists every object at the storage version, writes each back (an empty merge patch, so
the server re-encodes it at the storage version), then sets `status.storedVersions` to the storage version
alone. It migrates to the storage version of the CRDs in the cluster, which for a jump across several minors
is not yet the new one. So first a bridge CRD: the new CRD plus the stored versions it drops, served but not
stored (what the intermediate releases' CRDs looked like); then migrate to the new storage version; then the
new CRD applies.

Pruning. What the old install had and the new one does not (the release's four controller Deployments of an
install done before the one-pod layout, a renamed Service) is deleted; only objects carrying the install's
labels, never one a Kustomization applied from git, and never a CRD (deleting one deletes its objects).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PART_OF = ("app.kubernetes.io/part-of", "flux")
INSTANCE = ("app.kubernetes.io/instance", "flux-system")
FLUX_OWNER_LABEL = "kustomize.toolkit.fluxcd.io/name"  # set by kustomize-controller on what it applies
# The kinds an install manifest holds, which pruning may delete (never CustomResourceDefinition).
PRUNABLE: dict[str, str] = {
    "Deployment": "apps/v1",
    "Service": "v1",
    "ServiceAccount": "v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "ResourceQuota": "v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
}


@dataclass(frozen=True)
class CrdMigration:
    name: str
    group: str
    kind: str
    storage: str  # the new release's storage version
    stored: tuple[str, ...]  # the live status.storedVersions
    bridge: dict[str, Any] | None  # applied first when the new CRD drops a stored version

    @property
    def rewrite(self) -> bool:
        """Objects may be persisted in another version than the new storage one: write each back."""
        return self.stored != (self.storage,)


def storage_version(crd: dict[str, Any]) -> str:
    return str(next(v["name"] for v in crd["spec"]["versions"] if v.get("storage")))


def bridge_crd(live: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """The new CRD plus every version of `live.status.storedVersions` it drops, served and not stored, with the
    live CRD's schema for it; None when the new CRD keeps every stored version."""
    names = {v["name"] for v in new["spec"]["versions"]}
    stored = (live.get("status") or {}).get("storedVersions") or []
    live_versions = {v["name"]: v for v in live["spec"]["versions"]}
    dropped = [v for v in stored if v not in names]
    if not dropped:
        return None
    out = copy.deepcopy(new)
    for name in dropped:
        old = copy.deepcopy(live_versions.get(name) or {"name": name, "schema": {"openAPIV3Schema": {}}})
        old.update(served=True, storage=False)
        old.pop("deprecated", None)
        old.pop("deprecationWarning", None)
        out["spec"]["versions"].append(old)
    return out


def plan_crd_migrations(live_crds: Sequence[dict[str, Any]], new_crds: Sequence[dict[str, Any]]) -> list[CrdMigration]:
    """One entry per CRD of the new release that exists in the cluster, in the new manifest's order."""
    live = {c["metadata"]["name"]: c for c in live_crds}
    out = []
    for new in new_crds:
        name = new["metadata"]["name"]
        if name not in live:
            continue  # a CRD the old release did not have: nothing is stored in it yet
        stored = tuple((live[name].get("status") or {}).get("storedVersions") or ())
        out.append(
            CrdMigration(
                name=name,
                group=new["spec"]["group"],
                kind=new["spec"]["names"]["kind"],
                storage=storage_version(new),
                stored=stored,
                bridge=bridge_crd(live[name], new),
            )
        )
    return out


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def _ref(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta["name"])


def prune_targets(
    live_objects: Sequence[dict[str, Any]], new_components: Sequence[dict[str, Any]]
) -> list[tuple[str, str, str, str]]:
    """(apiVersion, kind, namespace, name) of each live install object the new components no longer have:
    labelled as part of the flux-system install, of a kind an install holds, and not applied from git."""
    wanted = {_ref(o) for o in new_components}
    out = []
    for obj in live_objects:
        kind, namespace, name = _ref(obj)
        labels = _labels(obj)
        if kind not in PRUNABLE or FLUX_OWNER_LABEL in labels:
            continue
        if labels.get(PART_OF[0]) != PART_OF[1] or labels.get(INSTANCE[0]) != INSTANCE[1]:
            continue
        if (kind, namespace, name) not in wanted:
            out.append((PRUNABLE[kind], kind, namespace, name))
    return sorted(out, key=lambda r: (r[1], r[2], r[3]))
