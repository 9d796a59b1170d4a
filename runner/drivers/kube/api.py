"""What the engine needs from a Kubernetes cluster, as a Protocol (the lightkube implementation is in client.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

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


class KubeApi(Protocol):
    def api_ready(self) -> bool:
        """The API server answers and accepts our credentials (False while it cannot be reached)."""

    def wait_ready(self, kind: str, name: str, namespace: str = "flux-system", timeout: float = 300.0) -> FluxStatus:
        """Until Ready; Stalled or a terminal Ready=False raises Permanent with Flux's message; timeout -> Transient."""

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
    ) -> list[dict[str, Any]]:
        """Patched gotk-components, the sops-age Secret, the flux-system GitRepository and root Kustomization."""

    def flux_version(self) -> str | None:
        """The installed Flux version (from the flux-system Namespace), or None when Flux is not installed."""

    def kustomizations_status(self) -> list[FluxStatus]:
        """Every Flux Kustomization with its verdict."""

    def close(self) -> None: ...
