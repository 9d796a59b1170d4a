"""PersistentVolumeClaims through Proxmox CSI: Pending until a default StorageClass with a running driver
serves them, WaitForFirstConsumer, a disk on the Proxmox twin's storage attached to the consuming node's VM
with the CSI's own token, and workloads not Ready before their volume is."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from ruamel.yaml import YAML

from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi
from runner.lab.kube import CertificateAuthority, KubeTwin, TwinOptions, admin_kubeconfig, serve_kube_twin
from runner.lab.kube.storage_charts import proxmox_csi

from .conftest import CLUSTER_ENDPOINT
from .pve import NODES, TOPOLOGY, PveLab, csi_config

NS = "csi-proxmox"
CSI_VALUES = {
    "existingConfigSecret": "proxmox-csi-plugin",
    "controller": {"nodeSelector": {"node-role.kubernetes.io/control-plane": ""},
                   "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
    "storageClass": [{"name": "proxmox-data", "storage": "local-lvm", "fstype": "ext4",
                      "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}],
}  # fmt: skip


@pytest.fixture
def twin(pve: PveLab, cluster_ca: CertificateAuthority) -> Iterator[tuple[KubeTwin, LightkubeApi]]:
    twin = KubeTwin(TwinOptions(proxmox_endpoints=pve.endpoints(), proxmox_ca_bundle=str(pve.twin.ca_bundle)))
    running = serve_kube_twin(twin, cluster_ca)
    for name, (ip, role, _vmid) in NODES.items():
        twin.add_node(name, ip, role, TOPOLOGY, pve.uuids[name])
    twin.cluster.set_cni_ready()
    api = LightkubeApi(Secret(admin_kubeconfig(cluster_ca, CLUSTER_ENDPOINT)), server=running.url, poll_interval=0.01)
    try:
        yield twin, api
    finally:
        api.close()
        running.stop()


def install_csi(api: LightkubeApi, config: dict[str, Any] | None = None, values: dict[str, Any] | None = None) -> None:
    text = _yaml({"clusters": [config or csi_config()]})
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "proxmox-csi-plugin", "namespace": NS},
        "data": {"config.yaml": base64.b64encode(text.encode()).decode()},
    }
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
    api.apply([namespace, secret, *proxmox_csi(values or CSI_VALUES, NS, "proxmox-csi-plugin", "v0.19.1")])


def _yaml(data: Any) -> str:
    import io

    out = io.StringIO()
    YAML().dump(data, out)
    return out.getvalue()


def claim(name: str = "data", storage_class: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": "default"},
            "spec": spec}  # fmt: skip


def app(claim_name: str = "data") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "default"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "app"}},
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {"containers": [{"name": "app", "image": "busybox"}],
                         "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}]},
            },
        },
    }  # fmt: skip


def phase(api: LightkubeApi, name: str = "data") -> str:
    pvc = api.get("v1", "PersistentVolumeClaim", name, "default")
    assert pvc is not None
    return str((pvc.get("status") or {}).get("phase"))


def test_a_claim_stays_pending_until_a_default_class_with_a_running_driver_serves_it(twin, pve):
    kube, api = twin
    api.apply([claim(), app()])
    kube.reconcile()
    assert phase(api) == "Pending"
    assert api.get("v1", "PersistentVolumeClaim", "data", "default")["spec"].get("storageClassName") is None
    deployment = api.get("apps/v1", "Deployment", "app", "default")
    assert deployment["status"]["readyReplicas"] == 0
    install_csi(api)
    api.wait_ready("Deployment", "app", namespace="default", timeout=20)
    pvc = api.get("v1", "PersistentVolumeClaim", "data", "default")
    # retroactive default StorageClass assignment, then the driver's PV
    assert pvc["spec"]["storageClassName"] == "proxmox-data"
    assert pvc["status"]["phase"] == "Bound"
    pv = api.get("v1", "PersistentVolume", pvc["spec"]["volumeName"])
    disk = f"vm-9999-{pv['metadata']['name']}"
    assert pv["spec"]["csi"] == {
        "driver": "csi.proxmox.sinextra.dev",
        "volumeHandle": f"atlas/atlas/local-lvm/{disk}",
        "fsType": "ext4",
    }
    volume = pve.state.volume(f"local-lvm:{disk}")
    assert volume is not None and (volume.size, volume.vmid) == (1024**3, 9999)
    pod = next(p for p in kube.pods.pods("default"))
    vm = pve.state.vms[NODES[pod["spec"]["nodeName"]][2]]
    assert vm.config["scsi1"] == f"local-lvm:{disk},wwn=0x5056432d49443031"
    attachment = api.get(
        "storage.k8s.io/v1",
        "VolumeAttachment",
        "csi-"
        + hashlib.sha256(
            f"{pv['metadata']['name']}csi.proxmox.sinextra.dev{pod['spec']['nodeName']}".encode()
        ).hexdigest(),
    )
    assert attachment is not None and attachment["status"] == {"attached": True}


def test_wait_for_first_consumer_waits_for_a_scheduled_pod(twin, pve):
    kube, api = twin
    install_csi(api)
    api.wait_ready("Deployment", "proxmox-csi-plugin-controller", namespace=NS, timeout=20)
    api.apply([claim()])
    kube.reconcile()
    assert phase(api) == "Pending"
    assert not [v for v in pve.state.storages["local-lvm"].volumes if "vm-9999-" in v]
    api.apply([app()])
    api.wait_ready("Deployment", "app", namespace="default", timeout=20)
    assert phase(api) == "Bound"


def test_immediate_binding_provisions_without_a_consumer(twin, pve):
    kube, api = twin
    values = {**CSI_VALUES, "storageClass": [{**CSI_VALUES["storageClass"][0], "volumeBindingMode": "Immediate"}]}
    install_csi(api, values=values)
    api.wait_ready("Deployment", "proxmox-csi-plugin-controller", namespace=NS, timeout=20)
    api.apply([claim()])
    kube.reconcile()
    assert phase(api) == "Bound"
    assert api.get("apps/v1", "Deployment", "proxmox-csi-plugin-controller", NS)["status"]["readyReplicas"] == 1
    assert [v for v in pve.state.storages["local-lvm"].volumes if "vm-9999-" in v] != []
    # nothing consumes it: no VM has it attached
    assert not [vm for vm in pve.state.vms.values() if "vm-9999-" in vm.config.get("scsi1", "")]


def test_no_csidriver_object_means_no_provisioning(twin, pve):
    kube, api = twin
    install_csi(api)
    kube.store.delete(kube.catalog.by_kind("storage.k8s.io/v1", "CSIDriver"), None, "csi.proxmox.sinextra.dev")
    api.apply([claim(), app()])
    kube.reconcile()
    assert phase(api) == "Pending"
    assert api.get("apps/v1", "Deployment", "app", "default")["status"]["readyReplicas"] == 0


def test_the_csi_token_needs_allocate_space_on_the_storage(twin, pve):
    kube, api = twin
    with pve.state.lock:
        pve.state.access.roles["CSI"] = pve.state.access.roles["CSI"] - {"Datastore.AllocateSpace"}
    install_csi(api)
    api.apply([claim(), app()])
    api.wait_ready("Deployment", "proxmox-csi-plugin-controller", namespace=NS, timeout=20)
    kube.reconcile()
    assert phase(api) == "Pending"
    assert (
        kube.volumes.errors[-1]
        == "CreateVolume: 403 Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)"
    )
    assert not [v for v in pve.state.storages["local-lvm"].volumes if "vm-9999-" in v]


def test_the_runner_token_is_not_what_the_csi_uses(twin, pve):
    """A config naming a token the host does not know gets 401s: nothing is allocated."""
    kube, api = twin
    install_csi(api, config={**csi_config(), "token_secret": "wrong"})
    api.apply([claim(), app()])
    api.wait_ready("Deployment", "proxmox-csi-plugin-controller", namespace=NS, timeout=20)
    kube.reconcile()
    assert phase(api) == "Pending"
    assert kube.volumes.errors[-1].startswith("CreateVolume: 401")


def test_a_pod_moved_to_another_node_takes_its_disk_along(twin, pve):
    """Drained: the disk is unlinked from the old node's VM before it is attached to the new one's."""
    kube, api = twin
    install_csi(api)
    api.apply([claim(), app()])
    api.wait_ready("Deployment", "app", namespace="default", timeout=20)
    pod = kube.pods.pods("default")[0]
    old = pod["spec"]["nodeName"]
    pv = api.get("v1", "PersistentVolumeClaim", "data", "default")["spec"]["volumeName"]
    node_rt = kube.catalog.by_kind("v1", "Node")
    taints = [*kube.store.get(node_rt, None, old)["spec"].get("taints", []),
              {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]  # fmt: skip
    kube.store.merge_patch(node_rt, None, old, {"spec": {"unschedulable": True, "taints": taints}}, "kubectl")
    kube.evict("default", pod["metadata"]["name"])
    new = kube.pods.pods("default")[0]["spec"]["nodeName"]
    assert new != old
    api.wait_ready("Deployment", "app", namespace="default", timeout=20)
    kube.reconcile()
    disk = f"local-lvm:vm-9999-{pv}"
    old_vm, new_vm = (pve.state.vms[NODES[n][2]] for n in (old, new))
    assert not [v for k, v in old_vm.config.items() if k.startswith("scsi") and disk in v]
    assert new_vm.config["scsi1"].startswith(f"{disk},")
    events = kube.events
    assert events.index(f"PersistentVolume/{pv} detached from {old}") < events.index(
        f"PersistentVolume/{pv} attached to {new}"
    )
