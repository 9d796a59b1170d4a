"""What the storage charts install, as far as other objects depend on it.

- proxmox-csi-plugin 0.5.9 (sergelogvinov/proxmox-csi-plugin v0.19.1, charts/proxmox-csi-plugin/templates):
  the CSIDriver `csi.proxmox.sinextra.dev` (attachRequired), one StorageClass per `storageClass[]` entry
  (volumeBindingMode defaulting to WaitForFirstConsumer, parameters `storage` and the fstype), and the
  controller Deployment `<release>-controller` mounting the cloud config Secret at /etc/proxmox/
  (`existingConfigSecret`, key `existingConfigSecretKey`).
- grafana 10.5.15 (grafana/helm-charts, charts/grafana/templates/pvc.yaml, deployment.yaml): with
  `persistence.enabled`, the PVC `<release>` (no storageClassName unless set, so the default class serves it)
  and the Deployment mounting it as `storage`.
"""

from __future__ import annotations

from typing import Any

CSI_CONTROLLER_IMAGE = "ghcr.io/sergelogvinov/proxmox-csi-controller"
DRIVER = "csi.proxmox.sinextra.dev"
CSI_CONFIG = "flux/infrastructure/storage/proxmox-csi-config.sops.yaml"  # the CSI's cloud config, in the Flux tree


def proxmox_csi(values: dict[str, Any], namespace: str, release: str, app_version: str) -> list[dict[str, Any]]:
    provisioner = values.get("provisionerName", DRIVER)
    out: list[dict[str, Any]] = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": {"name": provisioner},
            "spec": {"attachRequired": True, "podInfoOnMount": True, "volumeLifecycleModes": ["Persistent"]},
        }
    ]
    for sc in values.get("storageClass") or []:
        out.append(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": sc["name"], "annotations": dict(sc.get("annotations") or {})},
                "provisioner": provisioner,
                "allowVolumeExpansion": True,
                "volumeBindingMode": sc.get("volumeBindingMode") or "WaitForFirstConsumer",
                "reclaimPolicy": sc.get("reclaimPolicy") or "Delete",
                "parameters": {"csi.storage.k8s.io/fstype": sc.get("fstype") or "ext4", "storage": sc["storage"]},
            }
        )
    controller = values.get("controller") or {}
    secret = values.get("existingConfigSecret") or f"{release}"
    out.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": f"{release}-controller", "namespace": namespace},
            "spec": {
                "replicas": values.get("replicaCount", 1),
                "selector": {"matchLabels": {"app.kubernetes.io/component": "controller"}},
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/component": "controller"}},
                    "spec": {
                        "nodeSelector": dict(controller.get("nodeSelector") or {}),
                        "tolerations": list(controller.get("tolerations") or []),
                        "containers": [
                            {
                                "name": f"{release}-controller",
                                "image": f"{CSI_CONTROLLER_IMAGE}:{app_version}",
                                "args": [f"--cloud-config={values.get('configFile', '/etc/proxmox/config.yaml')}"],
                                "volumeMounts": [{"name": "cloud-config", "mountPath": "/etc/proxmox/"}],
                            }
                        ],
                        "volumes": [
                            {
                                "name": "cloud-config",
                                "secret": {
                                    "secretName": secret,
                                    "items": [
                                        {"key": values.get("existingConfigSecretKey", "config.yaml"),
                                         "path": "config.yaml"}
                                    ],
                                },
                            }
                        ],
                    },
                },
            },
        }
    )  # fmt: skip
    return out


def grafana(values: dict[str, Any], namespace: str, release: str) -> list[dict[str, Any]]:
    persistence = values.get("persistence") or {}
    volumes: list[dict[str, Any]] = [{"name": "storage", "emptyDir": {}}]
    out: list[dict[str, Any]] = []
    if persistence.get("enabled"):
        claim: dict[str, Any] = {
            "accessModes": list(persistence.get("accessModes") or ["ReadWriteOnce"]),
            "resources": {"requests": {"storage": persistence.get("size", "10Gi")}},
        }
        if persistence.get("storageClassName"):
            claim["storageClassName"] = persistence["storageClassName"]
        out.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": release, "namespace": namespace},
                "spec": claim,
            }
        )
        volumes = [{"name": "storage", "persistentVolumeClaim": {"claimName": release}}]
    out.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": release, "namespace": namespace},
            "spec": {
                "replicas": values.get("replicas", 1),
                "selector": {"matchLabels": {"app.kubernetes.io/name": "grafana"}},
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": "grafana"}},
                    "spec": {
                        "containers": [{"name": "grafana", "image": "docker.io/grafana/grafana:12.3.1"}],
                        "volumes": volumes,
                    },
                },
            },
        }
    )
    return out
