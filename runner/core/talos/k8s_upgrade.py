"""What `talosctl upgrade-k8s` changes in a node's machine config, one component at a time.

siderolabs/talos pkg/cluster/kubernetes/talos_managed.go@v1.11.2 (`Upgrade`): for kube-apiserver, then
kube-controller-manager, then kube-scheduler, patch that image on every controller (mode no-reboot) and wait
for its static pod; then kube-proxy's image on every controller; then the kubelet image on every node
(kubelet.go, waiting for the Node to report the version); then re-apply the bootstrap manifests. Each patch
reads the node's current config and changes one image, so the other components keep running their version
until their turn (which is what keeps the control plane within the version-skew policy).
"""

from __future__ import annotations

import copy
from typing import Any

from runner.core.talos.machineconfig import (
    APISERVER_IMAGE,
    CONTROLLER_MANAGER_IMAGE,
    KUBELET_IMAGE,
    PROXY_IMAGE,
    SCHEDULER_IMAGE,
)

CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
PROXY = "kube-proxy"
KUBELET = "kubelet"

# component -> (path of its image in the v1alpha1 document, image repository)
IMAGE_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "kube-apiserver": (("cluster", "apiServer", "image"), APISERVER_IMAGE),
    "kube-controller-manager": (("cluster", "controllerManager", "image"), CONTROLLER_MANAGER_IMAGE),
    "kube-scheduler": (("cluster", "scheduler", "image"), SCHEDULER_IMAGE),
    "kube-proxy": (("cluster", "proxy", "image"), PROXY_IMAGE),
    "kubelet": (("machine", "kubelet", "image"), KUBELET_IMAGE),
}


def image_for(component: str, version: str) -> str:
    """`registry:v<version>`, as Talos writes it (`%s:v%s`)."""
    return f"{IMAGE_FIELDS[component][1]}:v{version.removeprefix('v')}"


def _v1alpha1(documents: list[dict[str, Any]]) -> dict[str, Any]:
    for doc in documents:
        if doc.get("version") == "v1alpha1" or "machine" in doc:
            return doc
    raise ValueError("no v1alpha1 document in the machine config")


def patch_component(documents: list[dict[str, Any]], component: str, version: str) -> list[dict[str, Any]] | None:
    """The config with only this component's image moved to `version`; None when it already runs it."""
    path, _ = IMAGE_FIELDS[component]
    patched = copy.deepcopy(documents)
    section = _v1alpha1(patched)
    for key in path[:-1]:
        section = section.setdefault(key, {})
    wanted = image_for(component, version)
    if section.get(path[-1]) == wanted:
        return None
    section[path[-1]] = wanted
    return patched


def without_installer(documents: list[Any]) -> list[Any]:
    """The documents minus the v1alpha1 `machine.install.image` (read only when Talos installs or upgrades)."""
    out = copy.deepcopy(documents)
    for doc in out:
        machine = doc.get("machine") if isinstance(doc, dict) else None
        install = machine.get("install") if isinstance(machine, dict) else None
        if isinstance(install, dict):
            install.pop("image", None)
    return out


def without_images(documents: list[Any]) -> list[Any]:
    """The documents minus every component image: what must still match once upgrade-k8s has run."""
    out = copy.deepcopy(documents)
    for doc in out:
        if not isinstance(doc, dict):
            continue
        for path, _ in IMAGE_FIELDS.values():
            section: Any = doc
            for key in path[:-1]:
                section = section.get(key) if isinstance(section, dict) else None
            if isinstance(section, dict):
                section.pop(path[-1], None)
    return out
