"""`runner doctor` checks Proxmox CSI's own token: only the privileges the plugin documents, never the runner's."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from runner.drivers.sops import SopsCli
from runner.engine.commands.doctor import build_context
from runner.engine.commands.doctor.csi import CSI_CONFIG, DOCUMENTED, csi_token

from .conftest import REPO_ROOT


@pytest.fixture
def csi_role(lab):
    """The lab's CSI role, put back as the README grants it after each test."""
    state = lab.world.proxmox_state
    yield state.access
    with state.lock:
        state.access.roles["CSI"] = DOCUMENTED


def check(lab, root: Path = REPO_ROOT) -> list[tuple[str, str]]:
    ctx = dataclasses.replace(build_context(REPO_ROOT, "home", lab.settings), root=root)
    try:
        return [(row.result.value, row.detail) for row in csi_token(ctx)]
    finally:
        ctx.close()


def test_the_documented_csi_token_passes(lab, csi_role):
    assert check(lab) == [
        ("ok", "kubernetes-csi@pve!csi holds only the privileges Proxmox CSI documents, and is not ours")
    ]


def test_a_csi_token_with_more_privileges_fails(lab, csi_role):
    csi_role.roles["CSI"] = DOCUMENTED | {"VM.PowerMgmt"}
    assert check(lab) == [
        ("fail", f"kubernetes-csi@pve!csi holds VM.PowerMgmt on {path}, beyond what Proxmox CSI documents")
        for path in ("/storage/local-lvm", "/vms")
    ]


def test_a_csi_token_lacking_allocate_space_fails(lab, csi_role):
    csi_role.roles["CSI"] = DOCUMENTED - {"Datastore.AllocateSpace"}
    assert check(lab) == [("fail", "kubernetes-csi@pve!csi lacks Datastore.AllocateSpace on /storage/local-lvm")]


def _repo_with_csi_config(lab, tmp_path: Path, token_id: str, secret: str, region: str = "atlas") -> Path:
    root = tmp_path / "repo"
    for rel in (".sops.yaml", "clusters/home/cluster.yaml", "clusters/home/secrets.sops.yaml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / rel, root / rel)
    plain = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: proxmox-csi-plugin\n  namespace: csi-proxmox\n"
        "stringData:\n  config.yaml: |\n    clusters:\n      - url: https://atlas:8006/api2/json\n"
        f"        token_id: {token_id}\n        token_secret: {secret}\n        region: {region}\n"
    )
    target = root / CSI_CONFIG
    target.parent.mkdir(parents=True)
    sops = SopsCli(age_key_file=lab.settings.age_key_file)
    target.write_text(sops.encrypt(plain, CSI_CONFIG, root / ".sops.yaml"))
    return root


def test_the_runners_own_token_as_the_csi_token_fails_without_showing_it(lab, tmp_path):
    token_id = lab.world.inputs.host.token_id
    secret = lab.world.inputs.proxmox_token_secret
    rows = check(lab, _repo_with_csi_config(lab, tmp_path, token_id, secret))
    assert rows == [
        (
            "fail",
            f"the CSI's token in {CSI_CONFIG} is the runner's own token: a pod in the cluster would hold the "
            "runner's power over every VM",
        )
    ]
    assert secret not in repr(rows)


def test_a_csi_region_other_than_the_node_labels_fails(lab, tmp_path):
    root = _repo_with_csi_config(lab, tmp_path, "kubernetes-csi@pve!csi", "whatever", region="Region-1")
    assert check(lab, root) == [
        (
            "fail",
            f"{CSI_CONFIG}: clusters[0].region is 'Region-1', but the nodes are labelled "
            "topology.kubernetes.io/region=atlas",
        )
    ]
