"""The bootstrap-manifests stage of a Kubernetes upgrade follows the upgrade-k8s of the Talos the cluster runs
(siderolabs/talos pkg/cluster/kubernetes/talos_managed.go@v1.13.9 `PerformManifestsSync`): from Talos 1.13 a
server-side apply with an inventory (kube-system/talos-bootstrap-manifests-inventory) that prunes what the
manifests no longer hold; before 1.13 (v1.12.11) a plain sync that deletes nothing. And the API server the
cluster talks to reports the Kubernetes its controllers run, before and after the upgrade."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from runner.cli.lab.session import LabSession
from runner.lab.kube.pki import CertificateAuthority
from tests.day2.conftest import push_change
from tests.e2e.labkit import bootstrap_at, describe, start_lab, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-bootstrap-manifests")]

RETIRED = list(
    yaml.safe_load_all((Path(__file__).parents[1] / "data/bootstrap-manifests/flannel-retired.yaml").read_text())
)
INVENTORY = ("kube-system", "talos-bootstrap-manifests-inventory")
OWNING = "config.k8s.io/owning-inventory"
COREDNS_KEYS = {
    "kube-system_coredns__ServiceAccount": "",
    "kube-system_coredns_apps_Deployment": "",
    "kube-system_kube-dns__Service": "",
}
RETIRED_KEYS = ("kube-system_flannel__ServiceAccount", "_flannel_rbac.authorization.k8s.io_ClusterRole")


def _lab_at(tmp_path: Path, talos: str, kubernetes: str) -> LabSession:
    session = start_lab(tmp_path)
    bootstrap_at(session, talos, kubernetes)
    return session


def _find(lab: LabSession, api_version: str, kind: str, name: str, namespace: str | None) -> dict[str, Any] | None:
    twin = lab.world.kube_twin
    rt = twin.catalog.by_kind(api_version, kind)
    assert rt is not None
    return twin.store.find(rt, namespace, name)


def _inventory(lab: LabSession) -> dict[str, str] | None:
    found = _find(lab, "v1", "ConfigMap", INVENTORY[1], INVENTORY[0])
    return None if found is None else dict(found.get("data") or {})


def _seed_retired(lab: LabSession, with_inventory: bool) -> None:
    """The retired objects as the manifest controller of that Talos created them: from 1.13 annotated with the
    inventory and listed in it (Talos's ManifestApplyController, manifest_apply.go@v1.13.9)."""
    twin = lab.world.kube_twin
    for obj in RETIRED:
        rt = twin.catalog.by_kind(obj["apiVersion"], obj["kind"])
        assert rt is not None
        if with_inventory:
            obj = {**obj, "metadata": {**obj["metadata"], "annotations": {OWNING: INVENTORY[1]}}}
        namespace = obj["metadata"].get("namespace")
        twin.store.apply(rt, namespace, obj["metadata"]["name"], obj, "talos", False)
    if with_inventory:
        rt = twin.catalog.by_kind("v1", "ConfigMap")
        assert rt is not None
        current = twin.store.get(rt, INVENTORY[0], INVENTORY[1])
        data = {**(current.get("data") or {}), **dict.fromkeys(RETIRED_KEYS, "")}
        twin.store.replace(rt, INVENTORY[0], INVENTORY[1], {**current, "data": data}, "talos")


def _server_version(lab: LabSession, tmp_path: Path) -> str:
    """GET /version over HTTPS with an admin client certificate, as kubectl version does."""
    ca = CertificateAuthority(lab.world.inputs.kube_ca_crt, lab.world.inputs.kube_ca_key)
    cert, key = ca.issue("admin", organization="system:masters")
    (tmp_path / "admin.crt").write_bytes(cert)
    (tmp_path / "admin.key").write_bytes(key)
    context = ssl.create_default_context(cadata=ca.cert_pem.decode())
    context.load_cert_chain(tmp_path / "admin.crt", tmp_path / "admin.key")
    response = httpx.get(f"{lab.world.kube.url.rstrip('/')}/version", verify=context)
    response.raise_for_status()
    return str(response.json()["gitVersion"])


def test_from_talos_1_13_the_manifests_sync_prunes_what_the_inventory_no_longer_holds(tmp_path: Path) -> None:
    lab = _lab_at(tmp_path / "lab", "v1.13.9", "v1.35.4")
    try:
        assert _server_version(lab, tmp_path) == "v1.35.4"
        # Talos 1.13's manifest controller keeps the inventory from bootstrap on.
        wait_until(lambda: _inventory(lab) == COREDNS_KEYS, "the bootstrap inventory", timeout=30)
        _seed_retired(lab, with_inventory=True)

        run = push_change(lab, "version: v1.35.4", "version: v1.36.3", "Kubernetes v1.36.3")
        assert run["result"] == "success", describe(run)

        assert _find(lab, "v1", "ServiceAccount", "flannel", "kube-system") is None
        assert _find(lab, "rbac.authorization.k8s.io/v1", "ClusterRole", "flannel", None) is None
        assert _inventory(lab) == COREDNS_KEYS
        coredns = _find(lab, "apps/v1", "Deployment", "coredns", "kube-system")
        assert coredns is not None
        assert coredns["metadata"]["annotations"][OWNING] == INVENTORY[1]
        assert ("talos", "Apply") in {(m["manager"], m["operation"]) for m in coredns["metadata"]["managedFields"]}
        assert _server_version(lab, tmp_path) == "v1.36.3"
    finally:
        lab.stop()


def test_before_talos_1_13_the_manifests_sync_deletes_nothing(tmp_path: Path) -> None:
    lab = _lab_at(tmp_path / "lab", "v1.12.11", "v1.34.1")
    try:
        assert _server_version(lab, tmp_path) == "v1.34.1"
        _seed_retired(lab, with_inventory=False)

        run = push_change(lab, "version: v1.34.1", "version: v1.35.4", "Kubernetes v1.35.4")
        assert run["result"] == "success", describe(run)

        assert _find(lab, "v1", "ServiceAccount", "flannel", "kube-system") is not None
        assert _find(lab, "rbac.authorization.k8s.io/v1", "ClusterRole", "flannel", None) is not None
        assert _inventory(lab) is None
        assert _server_version(lab, tmp_path) == "v1.35.4"
    finally:
        lab.stop()
