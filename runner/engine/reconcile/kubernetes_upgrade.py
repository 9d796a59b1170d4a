"""The steps of `talosctl upgrade-k8s`, done by the runner with its own drivers.

Per component and node (talos_managed.go `upgradeStaticPodOnNode` / kubelet.go `upgradeKubeletOnNode`):
read the node's current machine config, move one image, apply it with mode no-reboot, wait until the
change shows (the API server answers again; the Node reports the new kubelet version). The last stage, the
bootstrap manifests, is manifest_sync.py.
"""

from __future__ import annotations

from collections.abc import Callable

from runner.core.derive import DesiredNode
from runner.core.secret import Secret
from runner.core.talos import parse_machine_config, render_documents
from runner.core.talos.k8s_upgrade import KUBELET, image_for, patch_component
from runner.drivers.kube.api import KubeApi
from runner.drivers.talos.api import TalosApi

Wait = Callable[[Callable[[], object], str], object]


def upgrade_component(
    talos: TalosApi, kube: Callable[[], KubeApi], node: DesiredNode, component: str, version: str, wait: Wait
) -> str:
    documents = parse_machine_config(talos.machine_config(node.ip).reveal())
    patched = patch_component(documents, component, version)
    image = image_for(component, version)
    if patched is None:
        return f"{component} on {node.name} already runs {image}"
    # no-reboot: Talos restarts the static pod (or the kubelet) in place; the node stays up.
    talos.apply_config(node.ip, Secret(render_documents(patched)), insecure=False, mode="no-reboot")
    client = kube()
    try:
        if component == KUBELET:
            wanted = "v" + version.removeprefix("v")
            wait(lambda: client.kubelet_versions().get(node.name) == wanted, f"Node {node.name} reporting {wanted}")
        else:
            wait(client.api_ready, f"the Kubernetes API answering after {component} on {node.name}")
    finally:
        client.close()
    return f"{component} on {node.name} is now {image}"
