"""What the engine needs from a Kubernetes cluster, as a Protocol (the lightkube implementation is in client.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from runner.core.errors import Transient
from runner.core.secret import Secret

from .readiness import FluxStatus

FLUX_OWNER_LABEL = "kustomize.toolkit.fluxcd.io/name"

# Kinds wait_ready understands, by the name callers use.
KINDS: dict[str, str] = {
    "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
    "HelmRelease": "helm.toolkit.fluxcd.io/v2",
    "GitRepository": "source.toolkit.fluxcd.io/v1",
    "HelmRepository": "source.toolkit.fluxcd.io/v1",
    "Deployment": "apps/v1",
    "DaemonSet": "apps/v1",
    "StatefulSet": "apps/v1",
}


class EvictionBlocked(Transient):
    """The API server refused an eviction (429) because a PodDisruptionBudget would be broken; it may clear."""


@dataclass(frozen=True)
class PodInfo:
    namespace: str
    name: str
    owner_kind: str | None  # the controlling owner's kind (ReplicaSet, DaemonSet, ...), None for a bare pod
    mirror: bool  # a static pod's mirror: the kubelet owns it, the API cannot evict it
    phase: str
    terminating: bool


class KubeApi(Protocol):
    def api_ready(self) -> bool:
        """The API server answers and accepts our credentials (False while it cannot be reached)."""

    def apply(
        self, objs: Sequence[Mapping[str, Any]], *, field_manager: str = "runner", handoff: bool = False
    ) -> list[dict[str, Any]]:
        """Server-side apply, in order. With handoff=True, Flux-owned objects are refused (Permanent)."""

    def wait_ready(
        self, kind: str, name: str, namespace: str = "flux-system", timeout: float = 300.0, handled: str | None = None
    ) -> FluxStatus:
        """Until Ready; Stalled or a terminal Ready=False raises Permanent with Flux's message; timeout -> Transient.
        With `handled` (a token from request_reconcile), only a status that has handled that request counts."""

    def request_reconcile(self, kind: str, name: str, namespace: str = "flux-system") -> str:
        """Ask Flux to reconcile now, as `flux reconcile` does (the reconcile.fluxcd.io/requestedAt annotation,
        merge-patched: no other field is touched); returns the token its status reports once handled."""

    def kubelet_versions(self) -> dict[str, str]:
        """Node name -> the version its kubelet reports (status.nodeInfo.kubeletVersion)."""

    def remove_node(self, name: str) -> bool:
        """Cordon and delete a Node leaving the cluster; False when it did not exist."""

    def install_flux(
        self,
        git_url: str,
        branch: str,
        path: str,
        sops_age_key: Secret,
        git_auth: Mapping[str, Secret | str] | None = None,
        *,
        handoff: bool = False,
        settings: Mapping[str, str] | None = None,
        version: str | None = None,
    ) -> list[dict[str, Any]]:
        """Patched gotk-components of `version` (None: the newest vendored), the cluster-settings ConfigMap,
        the sops-age Secret, the flux-system GitRepository and root Kustomization."""

    def upgrade_flux(
        self,
        version: str,
        git_url: str,
        branch: str,
        path: str,
        sops_age_key: Secret,
        git_auth: Mapping[str, Secret | str] | None = None,
        *,
        handoff: bool = False,
        settings: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Move a running Flux to `version`: CRD stored versions migrated as `flux migrate` does, the new
        release installed, what the old install had and the new one does not deleted. What it did, in lines."""

    def flux_facts(self) -> tuple[str | None, str | None]:
        """(installed Flux version, public half of the Flux key it holds), from one read of the flux-system
        Namespace; (None, None) when Flux is not installed."""

    def replace_sops_secret(self, sops_age_key: Secret, *, handoff: bool = False) -> None:
        """Apply the sops-age Secret holding `sops_age_key` (a rotated Flux key), replacing the old key."""

    def flux_settings(self) -> dict[str, str] | None:
        """The cluster-settings ConfigMap's data in flux-system, or None when it does not exist."""

    def kustomizations_status(self) -> list[FluxStatus]:
        """Every Flux Kustomization with its verdict."""

    def cluster_issuers_status(self) -> list[FluxStatus]:
        """Every cert-manager ClusterIssuer with its verdict (none without cert-manager)."""

    def cordon(self, node: str, unschedulable: bool = True) -> bool:
        """Cordon a node as the runner's own (False: no such node), or lift only the runner's own cordon (returns
        whether the node is schedulable now): a node cordoned by hand stays cordoned."""

    def cordoned_by_runner(self) -> set[str]:
        """Nodes the runner cordoned and has not yet uncordoned (one list call)."""

    def node_is_ready(self, node: str) -> bool | None:
        """The node's Ready condition; None when there is no such node."""

    def pods_on(self, node: str) -> list[PodInfo]:
        """Every pod bound to the node, in all namespaces (one list call with a field selector)."""

    def evict(self, namespace: str, name: str) -> bool:
        """Evict through the Eviction API (PDBs honoured); False when already gone; EvictionBlocked on 429."""

    def close(self) -> None: ...

    # the inventory-backed sync of Talos's bootstrap manifests (inventory_ops.py)
    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None: ...
    def namespaced(self, api_version: str, kind: str) -> bool: ...
    def preferred_version(self, group: str, kind: str) -> str | None: ...
    def apply_owned(self, objs: Sequence[Mapping[str, Any]], field_manager: str) -> list[dict[str, Any]]: ...
    def delete_object(self, api_version: str, kind: str, name: str, namespace: str | None) -> bool: ...
    def configmap_data(self, name: str, namespace: str) -> dict[str, str] | None: ...
    def create_object(self, obj: Mapping[str, Any]) -> None: ...
    def replace_object(self, obj: Mapping[str, Any]) -> None: ...


class HelmStorage(Protocol):
    """Helm's release storage, read-only (`runner adopt`)."""

    def helm_release_secrets(self) -> list[dict[str, Any]]: ...
