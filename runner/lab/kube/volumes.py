"""PersistentVolumeClaims bound through a CSI driver, and the Proxmox CSI controller that serves them.

What the twin imitates (Kubernetes v1.32 pkg/controller/volume/persistentvolume/pv_controller.go, the
StorageClass docs, kubernetes-csi/external-provisioner and external-attacher):
- a claim without `storageClassName` gets the default class (annotation
  `storageclass.kubernetes.io/is-default-class: "true"`), also after it was created (retroactive default
  StorageClass assignment, GA in 1.28); with no such class it stays Pending;
- a class whose provisioner has no CSIDriver object, or whose controller is not running, leaves the claim
  Pending; `WaitForFirstConsumer` waits until a pod using the claim is scheduled (its node is the one the
  volume is made for), `Immediate` provisions at once;
- provisioning creates a PV (`pvc-<claim uid>`, the driver's volumeHandle, the claim in `claimRef`) and
  binds the claim (`spec.volumeName`, phase Bound);
- a pod's volume is usable once the driver attached it to the pod's node: the attach/detach controller
  creates a VolumeAttachment `csi-<sha256(pv + driver + node)>` (pkg/volume/csi csi_attacher.go
  getAttachmentName), the external-attacher calls ControllerPublishVolume and sets `status.attached`; a
  workload whose pods mount a claim that is not Bound and attached is not Ready.
The Proxmox calls are the plugin's own (proxmox-csi-plugin v0.19.1 pkg/csi/controller.go, utils.go, with
sergelogvinov/go-proxmox v0.2.0), made over HTTP with the token from the Secret the controller mounts.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML

from .attachments import Attachments
from .catalog import Catalog, ResourceType
from .storage_charts import CSI_CONTROLLER_IMAGE
from .store import Store

MANAGER = "persistentvolume-controller"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
REGION, ZONE = "topology.kubernetes.io/region", "topology.kubernetes.io/zone"
CONTROLLER_VMID = 9999  # pkg/config/config.go DefaultControllerVMID: the VMID in volume names
# (url, token id, token secret, region) -> the CSI controller's client; the lab gives it one over HTTP.
ProxmoxClientFactory = Callable[[dict[str, Any]], Any]


class VolumeSim(Attachments):
    def __init__(self, store: Store, catalog: Catalog, events: list[str], workload_ready: Callable[[Any], bool]):
        self.store, self.catalog, self.events = store, catalog, events
        self.workload_ready = workload_ready
        self.proxmox_client: ProxmoxClientFactory | None = None
        self.errors: list[str] = []  # what the CSI controller logged last (the Proxmox answers it got)
        self.pending: dict[str, str] = {}  # PV name -> node an attach was asked for (its task still runs)

    def rt(self, api_version: str, kind: str) -> ResourceType:
        found = self.catalog.by_kind(api_version, kind)
        assert found is not None
        return found

    def due(self) -> bool:
        return bool(self.pending)

    # --- the cluster's view ------------------------------------------------------------------------
    def _classes(self) -> dict[str, dict[str, Any]]:
        return {
            sc["metadata"]["name"]: sc for sc in self.store.list(self.rt("storage.k8s.io/v1", "StorageClass"), None)
        }

    def _controller(self, provisioner: str) -> dict[str, Any] | None:
        """The running controller of a CSI driver: its CSIDriver object exists and its Deployment is Ready."""
        if self.store.find(self.rt("storage.k8s.io/v1", "CSIDriver"), None, provisioner) is None:
            return None
        for dep in self.store.list(self.rt("apps/v1", "Deployment"), None):
            containers = dep["spec"]["template"]["spec"].get("containers", [])
            if any(c.get("image", "").startswith(CSI_CONTROLLER_IMAGE) for c in containers):
                return dep if self.workload_ready(dep) else None
        return None

    def _consumers(self, namespace: str, claim: str) -> list[dict[str, Any]]:
        return [
            pod
            for pod in self.store.list(self.rt("v1", "Pod"), namespace)
            if any(
                (v.get("persistentVolumeClaim") or {}).get("claimName") == claim for v in pod["spec"].get("volumes", [])
            )
        ]

    def pod_spec_problem(self, namespace: str, pod_spec: dict[str, Any]) -> str | None:
        """Why pods of this template cannot start: a claim not Bound, or its volume not attached yet."""
        pvc_rt, pv_rt = self.rt("v1", "PersistentVolumeClaim"), self.rt("v1", "PersistentVolume")
        for volume in pod_spec.get("volumes", []):
            name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not name:
                continue
            pvc = self.store.find(pvc_rt, namespace, name)
            if pvc is None:
                return f'persistentvolumeclaim "{name}" not found'
            if (pvc.get("status") or {}).get("phase") != "Bound":
                return f"pod has unbound immediate PersistentVolumeClaims ({name})"
            pv = self.store.find(pv_rt, None, pvc["spec"].get("volumeName", ""))
            nodes = {p["spec"].get("nodeName") for p in self._consumers(namespace, name)}
            if pv is not None and "csi" in pv["spec"] and self.attached().get(pv["metadata"]["name"]) not in nodes:
                return f'AttachVolume.Attach pending for volume "{pv["metadata"]["name"]}"'
        return None

    # --- the controllers ---------------------------------------------------------------------------
    def sync(self) -> None:
        classes = self._classes()
        default = next(
            (
                n
                for n, sc in sorted(classes.items())
                if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"
            ),
            None,
        )
        pvc_rt = self.rt("v1", "PersistentVolumeClaim")
        for pvc in self.store.list(pvc_rt, None):
            meta, spec = pvc["metadata"], pvc["spec"]
            if (pvc.get("status") or {}).get("phase") == "Bound":
                self._attach(pvc)
                continue
            if spec.get("storageClassName") is None and default is not None:
                pvc = self.store.merge_patch(
                    pvc_rt, meta["namespace"], meta["name"], {"spec": {"storageClassName": default}}, MANAGER
                )
            self._set_phase(pvc, "Pending")
            sc = classes.get(pvc["spec"].get("storageClassName") or "")
            if sc is None:
                continue
            node = None
            if sc.get("volumeBindingMode", "Immediate") == "WaitForFirstConsumer":
                node = next(
                    (
                        p["spec"]["nodeName"]
                        for p in self._consumers(meta["namespace"], meta["name"])
                        if p["spec"].get("nodeName")
                    ),
                    None,
                )
                if node is None:
                    continue
            controller = self._controller(sc["provisioner"])
            if controller is None or self.proxmox_client is None:
                continue
            self._provision(pvc, sc, controller, node)

    def _set_phase(self, pvc: dict[str, Any], phase: str) -> None:
        if (pvc.get("status") or {}).get("phase") != phase:
            meta = pvc["metadata"]
            if phase == "Pending":
                self.events.append(f"PersistentVolumeClaim/{meta['namespace']}/{meta['name']} Pending")
            self.store.set_status(
                self.rt("v1", "PersistentVolumeClaim"), meta["namespace"], meta["name"], {"phase": phase}
            )

    def _config(self, controller: dict[str, Any]) -> dict[str, Any]:
        """The cloud config the controller reads from the Secret it mounts at /etc/proxmox/."""
        volume = next(v for v in controller["spec"]["template"]["spec"]["volumes"] if v["name"] == "cloud-config")
        ref = volume["secret"]
        secret = self.store.find(self.rt("v1", "Secret"), controller["metadata"]["namespace"], ref["secretName"])
        if secret is None:
            raise LookupError(f'secret "{ref["secretName"]}" not found')
        key = (ref.get("items") or [{"key": "config.yaml"}])[0]["key"]
        try:
            text = base64.b64decode((secret.get("data") or {}).get(key, "")).decode()
        except (binascii.Error, UnicodeDecodeError):
            text = ""
        config: dict[str, Any] = YAML(typ="safe").load(text) or {}
        return config

    def _client(self, controller: dict[str, Any], region: str) -> Any:
        assert self.proxmox_client is not None
        clusters = self._config(controller).get("clusters") or []
        cluster = next((c for c in clusters if c.get("region") == region), None)
        if cluster is None:
            raise LookupError(f"proxmox cluster {region} not found")  # proxmoxpool ErrRegionNotFound
        return self.proxmox_client(cluster)

    def _node_labels(self, node: str) -> dict[str, str]:
        found = self.store.find(self.rt("v1", "Node"), None, node)
        return dict((found or {}).get("metadata", {}).get("labels") or {})

    def _any_topology(self) -> dict[str, str]:
        for found in sorted(self.store.list(self.rt("v1", "Node"), None), key=lambda n: n["metadata"]["name"]):
            labels = found["metadata"].get("labels") or {}
            if labels.get(REGION) and labels.get(ZONE):
                return dict(labels)
        return {}

    def _provision(self, pvc: dict[str, Any], sc: dict[str, Any], controller: dict[str, Any], node: str | None) -> None:
        meta = pvc["metadata"]
        # Immediate: external-provisioner passes the topology of the nodes the driver registered on (CSINode),
        # and the plugin takes the first preferred segment; here the first labelled node by name.
        labels = self._node_labels(node) if node else self._any_topology()
        region, zone = labels.get(REGION, ""), labels.get(ZONE, "")
        if node and not (region and zone):
            self._log(f"failed to get region or zone for node {node}")  # NodeGetInfo refuses unlabelled nodes
            return
        storage = sc.get("parameters", {}).get("storage", "")
        pv_name = f"pvc-{meta['uid']}"
        size = _bytes(pvc["spec"]["resources"]["requests"]["storage"])
        try:
            client = self._client(controller, region)
            disk = client.create_volume(zone, storage, f"vm-{CONTROLLER_VMID}-{pv_name}", size)
        except Exception as exc:
            self._log(f"CreateVolume: {exc}")
            return
        handle = f"{region}/{zone}/{storage}/{disk}"
        self.store.create(
            self.rt("v1", "PersistentVolume"),
            None,
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": sc["provisioner"]}},
                "spec": {
                    "capacity": {"storage": pvc["spec"]["resources"]["requests"]["storage"]},
                    "accessModes": pvc["spec"].get("accessModes", ["ReadWriteOnce"]),
                    "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                    "storageClassName": sc["metadata"]["name"],
                    "claimRef": {
                        "kind": "PersistentVolumeClaim",
                        "namespace": meta["namespace"],
                        "name": meta["name"],
                        "uid": meta["uid"],
                    },
                    "csi": {
                        "driver": sc["provisioner"],
                        "volumeHandle": handle,
                        "fsType": sc.get("parameters", {}).get("csi.storage.k8s.io/fstype", "ext4"),
                    },
                    "nodeAffinity": {
                        "required": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {"key": REGION, "operator": "In", "values": [region]},
                                        {"key": ZONE, "operator": "In", "values": [zone]},
                                    ]
                                }
                            ]
                        }
                    },
                },
            },
            "csi-provisioner",
        )
        self.store.set_status(self.rt("v1", "PersistentVolume"), None, pv_name, {"phase": "Bound"})
        pvc = self.store.merge_patch(
            self.rt("v1", "PersistentVolumeClaim"),
            meta["namespace"],
            meta["name"],
            {"spec": {"volumeName": pv_name}},
            MANAGER,
        )
        self._set_phase(pvc, "Bound")
        self.events.append(f"PersistentVolumeClaim/{meta['namespace']}/{meta['name']} Bound")

    def _log(self, line: str) -> None:
        self.errors.append(line)
        del self.errors[:-20]


def _bytes(quantity: str) -> int:
    units = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "K": 1000, "M": 1000**2, "G": 1000**3}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(quantity[: -len(suffix)]) * factor
    return int(quantity)
