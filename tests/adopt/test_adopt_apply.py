"""`runner adopt --apply --confirm <digest>`: only VM tags change, and the runner's records; then the first
reconcile of a matching spec disrupts nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.cli.lab.session import LabSession
from runner.core.derive import derive
from runner.core.errors import RunnerError
from runner.core.secret import Secret
from runner.drivers.proxmox import ProxmoxDriver
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.reconcile.load import load_cluster
from runner.engine.reconcile.local import plan_live
from runner.engine.reconcile.source import DirSource
from tests.adopt.foreign import Foreign
from tests.adopt.operator import adopt_json, run_adopt, working_copy
from tests.adopt.test_adopt_report import _writes
from tests.e2e.labkit import describe, plan_steps

VMIDS = (300, 301, 302, 303, 304)
# The first plan of an adopted cluster whose spec matches it: Flux comes in, nothing else moves.
FIRST_STEPS = ["flux/install", "flux/ready", "flux/handoff"]


def _desired(cluster: Path) -> Any:
    loaded = load_cluster(DirSource(cluster.parents[1]), "home", decrypt=None)
    return derive(loaded.cluster).nodes


def _machines(session: LabSession) -> dict[str, Any]:
    """What must not move: each node's boot, its MachineConfig (text and COSI version), etcd's member ids."""
    lab = session.world.talos.lab
    with lab.lock:
        return {
            "boots": {ip: n.boot_id for ip, n in lab.nodes.items()},
            "configs": {ip: n.config.raw if n.config else None for ip, n in lab.nodes.items()},
            "versions": dict(lab.cosi.config_versions),
            "members": sorted((m.id, m.ip) for ms in lab.etcd.values() for m in ms.values()),
            "bootstraps": list(lab.bootstrap_calls),
        }


def _cilium_agent(session: LabSession) -> dict[str, Any]:
    twin = session.world.kube_twin
    daemonsets = twin.catalog.by_kind("apps/v1", "DaemonSet")
    assert daemonsets is not None
    agent = twin.store.find(daemonsets, "kube-system", "cilium")
    assert agent is not None
    return agent


def test_a_stale_digest_writes_nothing(
    foreign_lab: tuple[LabSession, Foreign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, foreign = foreign_lab
    cluster = working_copy(session, foreign, tmp_path)
    before = _writes(session)
    adopted = ClusterStateStore(session.settings.db_path).adoption("home")
    result = run_adopt(session, monkeypatch, cluster, "--apply", "--confirm", "0" * 64)
    assert result.exit_code == 1
    assert "the adoption report changed since 000000000000" in result.output
    assert _writes(session) == before
    assert ClusterStateStore(session.settings.db_path).adoption("home") == adopted


def test_a_vm_write_over_a_changed_config_is_refused_by_proxmox(foreign_lab: tuple[LabSession, Foreign]) -> None:
    session, _ = foreign_lab
    token_id, secret = next(iter(session.world.proxmox_state.tokens.items()))
    px = ProxmoxDriver(
        session.world.proxmox.url, token_id, Secret(secret), ca_bundle=str(session.world.proxmox.ca_bundle)
    )
    try:
        before = px.vm_config("atlas", 304).get("tags", "")  # adopted already or not: the module's order decides
        with pytest.raises(RunnerError, match=r"checksum mismatch \(file change by other user\?\)"):
            px.set_tags("atlas", 304, ("refused-write",), "0" * 40)
        assert px.vm_config("atlas", 304).get("tags", "") == before
    finally:
        px.close()


def test_apply_tags_the_vms_and_records_the_cluster_only(
    foreign_lab: tuple[LabSession, Foreign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, foreign = foreign_lab
    adopt_then_reconcile(session, working_copy(session, foreign, tmp_path), monkeypatch)


def adopt_then_reconcile(session: LabSession, cluster: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--apply --confirm` on a matching spec writes VM tags and records only, then the first plan and the
    service's first reconcile disrupt nothing and Flux takes Cilium over by an upgrade."""
    code, report = adopt_json(session, monkeypatch, cluster)
    assert code == 0, report["refusals"]
    machines = _machines(session)
    pve_before, talos_before, kube_before = _writes(session)
    result = run_adopt(session, monkeypatch, cluster, "--apply", "--confirm", report["digest"])
    assert result.exit_code == 0, result.output
    pve_after, talos_after, kube_after = _writes(session)
    assert pve_after[len(pve_before) :] == [f"POST /nodes/atlas/qemu/{vmid}/config" for vmid in VMIDS]
    calls = session.world.proxmox_state.calls.matching("POST", "/nodes/atlas/qemu/*/config")[-5:]
    assert [sorted(c.params) for c in calls] == [["digest", "tags"]] * 5
    assert (talos_after, kube_after) == (talos_before, kube_before)  # no Talos and no Kubernetes write
    assert _machines(session) == machines  # no reboot, no config change, the same etcd, no bootstrap
    spec_hashes = {dn.vm.vmid: dn.vm.spec_hash for dn in _desired(cluster)}
    with session.world.proxmox_state.lock:
        tags = {vmid: session.world.proxmox_state.vms[vmid].config["tags"] for vmid in VMIDS}
    assert {vmid: sorted(t.split(";")) for vmid, t in tags.items()} == {
        vmid: sorted(["managed-by-runner", "cluster-home", f"role-{role}", f"spec-{spec_hashes[vmid]}"])
        for vmid, role in zip(VMIDS, ["controlplane"] * 3 + ["worker"] * 2, strict=True)
    }
    store = ClusterStateStore(session.settings.db_path)
    facts = store.get("home")
    assert (facts.endpoint, facts.bootstrapped_at is not None) == ("https://10.0.0.20:6443", True)
    adoption = store.adoption("home")
    assert adoption is not None and adoption.digest == report["digest"]
    assert adoption.endpoint == "https://10.0.0.20:6443"
    # The first plan of the matching spec: nothing disruptive, no bootstrap, no VM or Talos step on a node.
    monkeypatch.setenv("RUNNER_CONFIG", str(session.config_file))
    plan = plan_live(cluster.parents[1], "home")
    assert plan.conflicts == ()
    assert [s.id for s in plan.steps if s.disruptive] == []
    assert [s.id for s in plan.steps] == FIRST_STEPS  # not one VM, Talos or bootstrap step

    # The service's first reconcile of that spec, pushed as the operator would: Flux is installed and takes
    # Cilium over by an upgrade of the Helm release; no node reboots, no config changes, no bootstrap.
    agent_uid = _cilium_agent(session)["metadata"]["uid"]
    session.seed_clone()
    spec = (cluster / "cluster.yaml").read_text()
    commit = session.commit({"clusters/home/cluster.yaml": spec}, "The cluster the runner adopted")
    session.push()
    run = session.wait_for_run(commit, timeout=240)
    assert run["result"] == "success", describe(run)
    assert [s["id"] for s in plan_steps(run)] == FIRST_STEPS
    assert _machines(session) == machines
    releases = session.world.kube_twin.catalog.by_kind("helm.toolkit.fluxcd.io/v2", "HelmRelease")
    assert releases is not None
    (cilium,) = [hr for hr in session.world.kube_twin.store.list(releases, None) if hr["metadata"]["name"] == "cilium"]
    assert (cilium["status"]["lastAttemptedReleaseAction"], cilium["status"]["history"][0]["version"]) == (
        "upgrade",
        2,
    )
    # The takeover is an upgrade of the same release: the agents' DaemonSet is the one `helm install` created.
    agent = _cilium_agent(session)
    assert agent["metadata"]["uid"] == agent_uid
    assert agent["metadata"]["annotations"] == {
        "meta.helm.sh/release-name": "cilium",
        "meta.helm.sh/release-namespace": "kube-system",
    }
