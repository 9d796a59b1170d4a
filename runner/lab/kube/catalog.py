"""Which resource types the twin serves: the built-in ones and those registered by CRDs.

Discovery documents, URL routing and list kinds are all derived from this one table, the same way the
real API server derives them from its registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    versions: tuple[str, ...]
    kind: str
    plural: str
    namespaced: bool
    has_status: bool = True
    short_names: tuple[str, ...] = ()
    schemas: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)  # version -> openAPIV3Schema

    @property
    def group_resource(self) -> str:
        """`deployments.apps`, `namespaces`: how the real server names a type in error messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    @property
    def preferred_version(self) -> str:
        return self.versions[0]


_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

BUILTIN: tuple[ResourceType, ...] = (
    ResourceType("", ("v1",), "Namespace", "namespaces", False, short_names=("ns",)),
    ResourceType("", ("v1",), "Node", "nodes", False, short_names=("no",)),
    ResourceType("", ("v1",), "Secret", "secrets", True, has_status=False),
    ResourceType("", ("v1",), "ConfigMap", "configmaps", True, has_status=False, short_names=("cm",)),
    ResourceType("", ("v1",), "ServiceAccount", "serviceaccounts", True, has_status=False, short_names=("sa",)),
    ResourceType("", ("v1",), "Service", "services", True, short_names=("svc",)),
    ResourceType("", ("v1",), "Pod", "pods", True, short_names=("po",)),
    ResourceType("apps", ("v1",), "ReplicaSet", "replicasets", True, short_names=("rs",)),
    ResourceType("policy", ("v1",), "PodDisruptionBudget", "poddisruptionbudgets", True, short_names=("pdb",)),
    ResourceType("", ("v1",), "ResourceQuota", "resourcequotas", True, short_names=("quota",)),
    ResourceType("apps", ("v1",), "Deployment", "deployments", True, short_names=("deploy",)),
    ResourceType("apps", ("v1",), "DaemonSet", "daemonsets", True, short_names=("ds",)),
    ResourceType("apps", ("v1",), "StatefulSet", "statefulsets", True, short_names=("sts",)),
    ResourceType("rbac.authorization.k8s.io", ("v1",), "ClusterRole", "clusterroles", False, has_status=False),
    ResourceType(
        "rbac.authorization.k8s.io", ("v1",), "ClusterRoleBinding", "clusterrolebindings", False, has_status=False
    ),
    ResourceType("rbac.authorization.k8s.io", ("v1",), "Role", "roles", True, has_status=False),
    ResourceType("rbac.authorization.k8s.io", ("v1",), "RoleBinding", "rolebindings", True, has_status=False),
    ResourceType("networking.k8s.io", ("v1",), "NetworkPolicy", "networkpolicies", True, short_names=("netpol",)),
    ResourceType("networking.k8s.io", ("v1",), "Ingress", "ingresses", True, short_names=("ing",)),
    ResourceType("networking.k8s.io", ("v1",), "IngressClass", "ingressclasses", False, has_status=False),
    ResourceType("coordination.k8s.io", ("v1",), "Lease", "leases", True, has_status=False),
    ResourceType("", ("v1",), "PersistentVolumeClaim", "persistentvolumeclaims", True, short_names=("pvc",)),
    ResourceType("", ("v1",), "PersistentVolume", "persistentvolumes", False, short_names=("pv",)),
    ResourceType(
        "storage.k8s.io", ("v1",), "StorageClass", "storageclasses", False, has_status=False, short_names=("sc",)
    ),
    ResourceType("storage.k8s.io", ("v1",), "CSIDriver", "csidrivers", False, has_status=False),
    ResourceType("storage.k8s.io", ("v1",), "VolumeAttachment", "volumeattachments", False),
    ResourceType(
        "apiextensions.k8s.io",
        ("v1",),
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        short_names=("crd", "crds"),
    ),
)


def type_from_crd(crd: dict[str, Any]) -> ResourceType:
    """The resource type a CustomResourceDefinition registers (served versions only, storage version first)."""
    spec = crd["spec"]
    served = [v for v in spec["versions"] if v.get("served")]
    served.sort(key=lambda v: not v.get("storage"))
    names = spec["names"]
    return ResourceType(
        group=spec["group"],
        versions=tuple(v["name"] for v in served),
        kind=names["kind"],
        plural=names["plural"],
        namespaced=spec["scope"] == "Namespaced",
        has_status="status" in (served[0].get("subresources") or {}) if served else False,
        short_names=tuple(names.get("shortNames") or ()),
        schemas={v["name"]: (v.get("schema") or {}).get("openAPIV3Schema") or {} for v in served},
    )


class Catalog:
    """Lookup by (group, version, plural) for routing and by (apiVersion, kind) for manifests."""

    def __init__(self) -> None:
        self._types: dict[tuple[str, str], ResourceType] = {}  # (group, plural) -> type
        for rt in BUILTIN:
            self.register(rt)

    def register(self, rt: ResourceType) -> None:
        self._types[(rt.group, rt.plural)] = rt

    def unregister(self, group: str, plural: str) -> None:
        self._types.pop((group, plural), None)

    def by_plural(self, group: str, version: str, plural: str) -> ResourceType | None:
        rt = self._types.get((group, plural))
        return rt if rt is not None and version in rt.versions else None

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        for rt in self._types.values():
            if rt.group == group and rt.kind == kind and version in rt.versions:
                return rt
        return None

    def all(self) -> list[ResourceType]:
        return list(self._types.values())

    def groups(self) -> dict[str, list[str]]:
        """Group name -> served versions (preferred first), for /apis."""
        out: dict[str, list[str]] = {}
        for rt in self._types.values():
            if rt.group:
                versions = out.setdefault(rt.group, [])
                versions.extend(v for v in rt.versions if v not in versions)
        return out

    def resource_list(self, group: str, version: str) -> list[dict[str, Any]]:
        """The APIResourceList entries for one group/version, including status subresources."""
        out: list[dict[str, Any]] = []
        for rt in self._types.values():
            if rt.group != group or version not in rt.versions:
                continue
            entry = {
                "name": rt.plural,
                "singularName": rt.kind.lower(),
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": _VERBS,
            }
            if rt.short_names:
                entry["shortNames"] = list(rt.short_names)
            out.append(entry)
            if rt.has_status:
                out.append(
                    {
                        "name": f"{rt.plural}/status",
                        "singularName": "",
                        "namespaced": rt.namespaced,
                        "kind": rt.kind,
                        "verbs": ["get", "patch", "update"],
                    }
                )
        return out
