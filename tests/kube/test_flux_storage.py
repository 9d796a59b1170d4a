"""Storage through Flux: Proxmox CSI from flux/infrastructure/storage serves the Grafana app's claim; a claim
stays Pending while the CSI controller cannot run, and binds once it does."""

from __future__ import annotations

from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi

from .conftest import SETTINGS, Lab
from .pve import NODES

CONTROLLERS = ("talos-cp-01", "talos-cp-02", "talos-cp-03")
UNSCHEDULABLE = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


def install(api: LightkubeApi, lab: Lab, age_key: Secret) -> None:
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", age_key, settings=SETTINGS)


def test_grafana_gets_a_proxmox_disk_on_its_nodes_vm(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    lab.join_all_nodes()
    install(api, lab, age_key)
    api.wait_ready("Kustomization", "platform-grafana", timeout=60)
    assert api.wait_ready("HelmRelease", "grafana", namespace="grafana", timeout=5).reason == "InstallSucceeded"
    storage_class = api.get("storage.k8s.io/v1", "StorageClass", "proxmox-data")
    assert storage_class is not None
    assert storage_class["parameters"] == {"csi.storage.k8s.io/fstype": "ext4", "storage": "local-lvm"}
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
    pvc = api.get("v1", "PersistentVolumeClaim", "grafana", "grafana")
    assert pvc is not None and pvc["status"]["phase"] == "Bound"
    assert pvc["spec"]["storageClassName"] == "proxmox-data"
    disk = f"vm-9999-{pvc['spec']['volumeName']}"
    assert lab.pve is not None
    volume = lab.pve.state.volume(f"local-lvm:{disk}")
    assert volume is not None and volume.size == 1024**3
    pod = lab.twin.pods.pods("grafana")[0]
    vm = lab.pve.state.vms[NODES[pod["spec"]["nodeName"]][2]]
    assert vm.config["scsi1"].startswith(f"local-lvm:{disk},")
    events = lab.twin.events
    assert (
        events.index("HelmRelease/flux-system/proxmox-csi-plugin Ready")
        < events.index("PersistentVolumeClaim/grafana/grafana Bound")
        < events.index("HelmRelease/grafana/grafana Ready")
    )


def test_a_claim_stays_pending_until_the_csi_controller_runs(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    """The controller runs on the control plane; with every controller cordoned it cannot start."""
    # Grafana no longer waits for storage in Flux: its claim must wait for the CSI driver in the cluster instead.
    grafana = lab.repo.read("flux/clusters/home/platform/grafana.yaml").decode()
    unordered = grafana.replace("    - name: infra-storage\n", "").encode()
    lab.repo.commit({"flux/clusters/home/platform/grafana.yaml": unordered})
    lab.join_all_nodes()
    node_rt = lab.twin.catalog.by_kind("v1", "Node")
    assert node_rt is not None
    for name in CONTROLLERS:
        node = lab.twin.store.get(node_rt, None, name)
        taints = [*node["spec"].get("taints", []), UNSCHEDULABLE]
        lab.twin.store.merge_patch(node_rt, None, name, {"spec": {"unschedulable": True, "taints": taints}}, "kubectl")
    install(api, lab, age_key)
    api.wait_ready("HelmRelease", "podinfo", namespace="podinfo", timeout=60)
    lab.twin.reconcile()
    pvc = api.get("v1", "PersistentVolumeClaim", "grafana", "grafana")
    assert pvc is not None and pvc["status"]["phase"] == "Pending"
    controller = api.get("apps/v1", "Deployment", "proxmox-csi-plugin-controller", "csi-proxmox")
    assert controller is not None and controller["status"]["readyReplicas"] == 0
    assert api.get("apps/v1", "Deployment", "grafana", "grafana")["status"]["readyReplicas"] == 0
    assert api.get("v1", "PersistentVolume", f"pvc-{pvc['metadata']['uid']}") is None
    for name in CONTROLLERS:
        node = lab.twin.store.get(node_rt, None, name)
        taints = [t for t in node["spec"]["taints"] if t["key"] != UNSCHEDULABLE["key"]]
        lab.twin.store.merge_patch(node_rt, None, name, {"spec": {"unschedulable": None, "taints": taints}}, "kubectl")
    api.wait_ready("HelmRelease", "grafana", namespace="grafana", timeout=60)
    api.wait_ready("Deployment", "grafana", namespace="grafana", timeout=5)
    assert api.get("v1", "PersistentVolumeClaim", "grafana", "grafana")["status"]["phase"] == "Bound"
    events = lab.twin.events
    assert (
        events.index("PersistentVolumeClaim/grafana/grafana Pending")
        < events.index("HelmRelease/flux-system/proxmox-csi-plugin Ready")
        < events.index("PersistentVolumeClaim/grafana/grafana Bound")
    )
