"""Storage in the lab: the nodes carry the topology the runner writes into their machine configs, Proxmox CSI
(installed by Flux with its own token) gives Grafana a disk on the Proxmox storage of cluster.yaml, attached
to the VM its pod runs on; and a claim pushed while the CSI controller cannot run stays Pending until it does."""

from __future__ import annotations

from typing import Any

import pytest

from runner.cli.lab.session import LabSession

from .labkit import Home, _objects, describe, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("storage")]
CONTROLLERS = ("talos-cp-01", "talos-cp-02", "talos-cp-03")
UNSCHEDULABLE = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
CLAIM = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: scratch
  namespace: grafana
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 2Gi
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: scratch
  namespace: grafana
spec:
  replicas: 1
  selector:
    matchLabels: {app: scratch}
  template:
    metadata:
      labels: {app: scratch}
    spec:
      containers:
        - name: scratch
          image: docker.io/library/busybox:1.37
      volumes:
        - name: data
          persistentVolumeClaim: {claimName: scratch}
"""


def _find(session: LabSession, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
    return next(
        (o for o in _objects(session, api_version, kind)
         if o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace),
        {},
    )  # fmt: skip


def _phase(session: LabSession, claim: str) -> str:
    return str((_find(session, "v1", "PersistentVolumeClaim", "grafana", claim).get("status") or {}).get("phase"))


def _vm_of(session: LabSession, node: str) -> Any:
    state = session.world.proxmox_state
    with state.lock:
        return next(vm for vm in state.vms.values() if vm.config.get("name") == node)


def test_grafana_runs_on_a_proxmox_csi_disk(home: Home) -> None:
    session, _ = home
    for node in _objects(session, "v1", "Node"):
        labels = node["metadata"]["labels"]
        assert (labels["topology.kubernetes.io/region"], labels["topology.kubernetes.io/zone"]) == ("atlas", "atlas")
    pvc = _find(session, "v1", "PersistentVolumeClaim", "grafana", "grafana")
    assert pvc["status"]["phase"] == "Bound"
    assert pvc["spec"]["storageClassName"] == "proxmox-data"
    pv = _find(session, "v1", "PersistentVolume", None, pvc["spec"]["volumeName"])
    disk = f"vm-9999-{pv['metadata']['name']}"
    assert pv["spec"]["csi"]["volumeHandle"] == f"atlas/atlas/local-lvm/{disk}"
    assert session.world.proxmox_state.volume(f"local-lvm:{disk}") is not None
    pod = next(p for p in _objects(session, "v1", "Pod") if p["metadata"]["namespace"] == "grafana")
    assert _vm_of(session, pod["spec"]["nodeName"]).config["scsi1"].startswith(f"local-lvm:{disk},wwn=0x")
    deployment = _find(session, "apps/v1", "Deployment", "grafana", "grafana")
    assert deployment["status"]["readyReplicas"] == 1
    events = session.world.kube_twin.events
    assert (
        events.index("HelmRelease/flux-system/proxmox-csi-plugin Ready")
        < events.index("PersistentVolumeClaim/grafana/grafana Bound")
        < events.index("HelmRelease/grafana/grafana Ready")
    )


def _cordon(session: LabSession, on: bool) -> None:
    twin = session.world.kube_twin
    rt = twin.catalog.by_kind("v1", "Node")
    assert rt is not None
    with twin._reconcile_lock:
        for name in CONTROLLERS:
            taints = [
                t for t in twin.store.get(rt, None, name)["spec"].get("taints", []) if t["key"] != UNSCHEDULABLE["key"]
            ]
            patch = (
                {"unschedulable": True, "taints": [*taints, UNSCHEDULABLE]}
                if on
                else {"unschedulable": None, "taints": taints}
            )
            twin.store.merge_patch(rt, None, name, {"spec": patch}, "kubectl")
    twin.reconcile()


def test_a_claim_stays_pending_until_the_csi_controller_runs_then_binds(home: Home) -> None:
    session, _ = home
    _cordon(session, True)  # the CSI controller runs on the control plane only: it stops
    listing = "flux/apps/platform/grafana/kustomization.yaml"
    resources = (session.clone / listing).read_text() + "  - scratch.yaml\n"
    commit = session.commit(
        {"flux/apps/platform/grafana/scratch.yaml": CLAIM, listing: resources}, "give grafana a scratch volume"
    )
    session.push()
    pvc = wait_until(lambda: _find(session, "v1", "PersistentVolumeClaim", "grafana", "scratch") or None, "the claim")
    session.world.kube_twin.reconcile()
    pvc = _find(session, "v1", "PersistentVolumeClaim", "grafana", "scratch")
    assert pvc["status"]["phase"] == "Pending"
    assert (
        _find(session, "apps/v1", "Deployment", "csi-proxmox", "proxmox-csi-plugin-controller")["status"][
            "readyReplicas"
        ]
        == 0
    )
    assert not [v for v in session.world.proxmox_state.storages["local-lvm"].volumes if pvc["metadata"]["uid"] in v]
    _cordon(session, False)
    wait_until(lambda: _phase(session, "scratch") == "Bound" or None, "the claim to bind")
    run = session.wait_for_run(commit, timeout=120)
    assert run["result"] == "success", describe(run)
    disk = f"local-lvm:vm-9999-pvc-{pvc['metadata']['uid']}"
    volume = session.world.proxmox_state.volume(disk)
    assert volume is not None and volume.size == 2 * 1024**3
    assert _find(session, "apps/v1", "Deployment", "grafana", "scratch")["status"]["readyReplicas"] == 1
