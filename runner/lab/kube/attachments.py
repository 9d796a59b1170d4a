"""Attaching a claim's volume to the node its pod runs on, and detaching it when the pod moved.

As Kubernetes v1.32's attach/detach controller with kubernetes-csi/external-attacher: a VolumeAttachment
`csi-<sha256(pv + driver + node)>` (pkg/volume/csi/csi_attacher.go getAttachmentName) asks the driver's
controller for ControllerPublishVolume and gets `status.attached`; a ReadWriteOnce volume whose pod moved
is first unpublished from the old node (its attachment deleted), then published on the new one.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .catalog import ResourceType
from .store import Store


class Attachments:
    """The attach side of VolumeSim (which provides the lookups declared here)."""

    store: Store
    events: list[str]
    pending: dict[str, str]
    proxmox_client: Any

    def rt(self, api_version: str, kind: str) -> ResourceType:
        raise NotImplementedError

    def _consumers(self, namespace: str, claim: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _controller(self, provisioner: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def _client(self, controller: dict[str, Any], region: str) -> Any:
        raise NotImplementedError

    def _log(self, line: str) -> None:
        raise NotImplementedError

    def attached(self) -> dict[str, str]:
        """PV name -> the node it is attached to (VolumeAttachments with status.attached)."""
        return {
            va["spec"]["source"]["persistentVolumeName"]: va["spec"]["nodeName"]
            for va in self.store.list(self.rt("storage.k8s.io/v1", "VolumeAttachment"), None)
            if (va.get("status") or {}).get("attached")
        }

    def _attach(self, pvc: dict[str, Any]) -> None:
        """external-attacher + ControllerPublishVolume: the disk goes onto the VM of the consuming pod's node."""
        pv_name = pvc["spec"].get("volumeName", "")
        node = next(
            (
                p["spec"]["nodeName"]
                for p in self._consumers(pvc["metadata"]["namespace"], pvc["metadata"]["name"])
                if p["spec"].get("nodeName")
            ),
            None,
        )
        pv = self.store.find(self.rt("v1", "PersistentVolume"), None, pv_name)
        if node is None or pv is None or "csi" not in pv["spec"] or self.attached().get(pv_name) == node:
            return
        driver = pv["spec"]["csi"]["driver"]
        va_rt = self.rt("storage.k8s.io/v1", "VolumeAttachment")
        # ReadWriteOnce: the attach/detach controller detaches from the old node first (its pod is gone)
        for va in self.store.list(va_rt, None):
            moved = va["spec"]["source"]["persistentVolumeName"] == pv_name and va["spec"]["nodeName"] != node
            if moved and not self._detach(pv, va):
                return
        va_name = "csi-" + hashlib.sha256(f"{pv_name}{driver}{node}".encode()).hexdigest()
        if self.store.find(va_rt, None, va_name) is None:
            self.store.create(
                va_rt,
                None,
                {
                    "apiVersion": "storage.k8s.io/v1",
                    "kind": "VolumeAttachment",
                    "metadata": {"name": va_name},
                    "spec": {"attacher": driver, "nodeName": node, "source": {"persistentVolumeName": pv_name}},
                },
                "attachdetach-controller",
            )
        controller = self._controller(pv["spec"]["csi"]["driver"])
        if controller is None or self.proxmox_client is None:
            return
        region, _zone, storage, disk = pv["spec"]["csi"]["volumeHandle"].split("/", 3)
        node_obj = self.store.find(self.rt("v1", "Node"), None, node) or {}
        uuid = (node_obj.get("status") or {}).get("nodeInfo", {}).get("systemUUID", "")
        try:
            done = self._client(controller, region).attach_volume(node, uuid, storage, disk)
        except Exception as exc:
            self._log(f"ControllerPublishVolume: {exc}")
            return
        if done:
            self.pending.pop(pv_name, None)
            self.store.set_status(va_rt, None, va_name, {"attached": True})
            self.events.append(f"PersistentVolume/{pv_name} attached to {node}")
        else:
            self.pending[pv_name] = node

    def _detach(self, pv: dict[str, Any], va: dict[str, Any]) -> bool:
        """ControllerUnpublishVolume from the node a VolumeAttachment names; then the attachment goes."""
        controller = self._controller(pv["spec"]["csi"]["driver"])
        if controller is None:
            return False
        old = va["spec"]["nodeName"]
        region, _zone, _storage, disk = pv["spec"]["csi"]["volumeHandle"].split("/", 3)
        node_obj = self.store.find(self.rt("v1", "Node"), None, old) or {}
        uuid = (node_obj.get("status") or {}).get("nodeInfo", {}).get("systemUUID", "")
        try:
            self._client(controller, region).detach_volume(old, uuid, disk)
        except Exception as exc:
            self._log(f"ControllerUnpublishVolume: {exc}")
            return False
        self.store.delete(self.rt("storage.k8s.io/v1", "VolumeAttachment"), None, va["metadata"]["name"])
        self.events.append(f"PersistentVolume/{pv['metadata']['name']} detached from {old}")
        return True
