"""What the Talos controllers' control plane means to the Kubernetes twin the lab puts behind them.

- The API server: each controller runs kube-apiserver as a static pod from `cluster.apiServer.image`
  (siderolabs/talos internal/app/machined/pkg/controllers/k8s/control_plane_static_pod.go@v1.13.9), so the
  twin answers as the release that image holds (`/version`, the OpenAPI schemas it validates with). While
  upgrade-k8s moves one controller after the other, the twin answers as the oldest one still running:
  what every API server of the cluster accepts.
- The bootstrap manifests: each running controller's k8s.ManifestApplyController brings what it renders into
  the cluster, as the Talos it runs does (manifest_apply.py).
"""

from __future__ import annotations

from typing import Any

from runner.lab.kube import KubeTwin
from runner.lab.talos import manifest_apply, manifests
from runner.lab.talos.machineconfig import image_version


def _semver(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.lstrip("v").split("-")[0].split("."))


def apiserver_version(documents: list[dict[str, Any]]) -> str | None:
    for doc in documents:
        cluster = doc.get("cluster")
        if isinstance(cluster, dict):
            return image_version(str((cluster.get("apiServer") or {}).get("image", "")))
    return None


def of_controllers(
    controllers: list[tuple[str, list[dict[str, Any]]]],
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """(Talos version -> the objects its manifest controller renders, kube-apiserver versions) of the running
    controllers, each given as (Talos version, machine config documents)."""
    renderings: dict[str, list[dict[str, Any]]] = {}
    for version, documents in controllers:  # controllers of one release render the same: the first one's serve
        if version not in renderings:
            renderings[version] = [
                o for _, objs in sorted(manifests.rendered(documents, version).items()) for o in objs
            ]
    return renderings, [v for _, documents in controllers if (v := apiserver_version(documents))]


def follow_apiservers(kube: KubeTwin, versions: list[str]) -> None:
    """The twin answers as the oldest kube-apiserver the running controllers run (none running: unchanged)."""
    if versions:
        oldest = min(versions, key=_semver)
        if oldest != kube.kubernetes_version:
            kube.set_kubernetes_version(oldest)


def apply_bootstrap_manifests(kube: KubeTwin, renderings: dict[str, list[dict[str, Any]]]) -> None:
    """Talos version of a running controller -> the objects it renders: each version's controller walks them."""
    for version, objects in sorted(renderings.items()):
        if manifest_apply.uses_inventory(version):
            if manifest_apply.apply_with_inventory(kube, objects):
                kube.reconcile()
        else:
            kube.create_missing(objects, manifest_apply.FIELD_MANAGER)
