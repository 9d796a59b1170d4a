"""`runner adopt` on a cluster the runner never built: a read-only report, its digest and exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.cli.lab.session import LabSession
from runner.engine.reconcile.local import plan_live
from tests.adopt.foreign import Foreign
from tests.adopt.operator import adopt_json, run_adopt, working_copy

NODES = ["talos-cp-01", "talos-cp-02", "talos-cp-03", "talos-worker-01", "talos-worker-02"]


def _writes(session: LabSession) -> tuple[list[str], list[tuple[str, str, bool]], list[str]]:
    """Every write the twins have seen: Proxmox calls, Talos API calls, Kubernetes requests."""
    pve = [f"{c.method} {c.path}" for c in session.world.proxmox_state.calls.matching() if c.method != "GET"]
    reads = {"version", "get", "etcd_members", "service", "health"}
    talos = [c for c in session.world.talos.lab.rpc_log if c[0] not in reads and not (c[0] == "apply" and c[2])]
    kube = [r for r in session.world.kube_twin.requests if not r.startswith("GET ")]
    return pve, talos, kube


def test_adopt_reports_every_node_and_writes_nothing(
    foreign_lab: tuple[LabSession, Foreign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, foreign = foreign_lab
    cluster = working_copy(session, foreign, tmp_path)
    before = _writes(session)
    code, report = adopt_json(session, monkeypatch, cluster)
    assert report["refusals"] == []
    assert code == 0
    assert [(n["name"], n["reboot"]) for n in report["nodes"]] == [(n, False) for n in NODES]
    assert all(n["config"] == [] and n["vm"] == [] for n in report["nodes"]), report["nodes"]
    assert {s["verdict"] for n in report["nodes"] for s in n["secrets"]} == {"same"}
    assert {n["talos"] for n in report["nodes"]} == {"Applied configuration without a reboot"}
    # The operator's hand-written schematics are the ones the spec describes: the factory gave the same ids.
    assert {(n["version"], n["schematic"]) for n in report["nodes"]} == {("same", "same")}
    assert report["endpoint"] == "https://10.0.0.20:6443"
    assert [(r["release"], r["takeover"], r["helmrelease"]) for r in report["releases"]] == [
        ("kube-system/cilium", "upgrade", "flux-system/cilium")
    ]
    assert len(report["digest"]) == 64
    assert _writes(session) == before  # not one write to Proxmox, Talos or Kubernetes
    again = run_adopt(session, monkeypatch, cluster)
    assert again.exit_code == 0
    assert f"digest {report['digest']}" in again.stdout  # the same cluster, the same digest


def test_adopt_shows_the_values_flux_would_change(
    foreign_lab: tuple[LabSession, Foreign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, foreign = foreign_lab
    _, report = adopt_json(session, monkeypatch, working_copy(session, foreign, tmp_path))
    (cilium,) = report["releases"]
    assert cilium["values"] == [  # what flux/infrastructure/cni/cilium.yaml sets beyond the operator's install
        "cgroup.autoMount.enabled: (absent) → false",
        "cgroup.hostRoot: (absent) → /sys/fs/cgroup",
        "externalIPs.enabled: (absent) → true",
        "gatewayAPI.enabled: (absent) → true",
        "k8sClientRateLimit.burst: (absent) → 40",
        "k8sClientRateLimit.qps: (absent) → 20",
        "l2announcements.enabled: (absent) → true",
        "l7Proxy: (absent) → true",
        "securityContext.capabilities.ciliumAgent: (absent) → [CHOWN, DAC_OVERRIDE, FOWNER, IPC_LOCK, KILL, "
        "NET_ADMIN, NET_RAW, SETGID, SETUID, SYS_ADMIN, SYS_RESOURCE]",
        "securityContext.capabilities.cleanCiliumState: (absent) → [NET_ADMIN, SYS_ADMIN, SYS_RESOURCE]",
    ]


def test_a_schematic_change_is_reported_as_an_upgrade_that_reboots(
    foreign_lab: tuple[LabSession, Foreign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, foreign = foreign_lab

    def add_iscsi_tools(doc: object) -> None:
        doc["talos"]["extensions"].append("siderolabs/iscsi-tools")  # type: ignore[index]

    code, report = adopt_json(session, monkeypatch, working_copy(session, foreign, tmp_path, add_iscsi_tools))
    assert code == 0, report["refusals"]
    assert all(n["reboot"] for n in report["nodes"])
    assert all(n["schematic"].endswith("(upgrade, reboots)") for n in report["nodes"])


def _plan_before_adoption(
    session: LabSession, foreign: Foreign, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    cluster = working_copy(session, foreign, tmp_path)
    monkeypatch.setenv("RUNNER_CONFIG", str(session.config_file))
    return plan_live(cluster.parents[1], "home")


def test_before_adoption_the_plan_refuses_every_foreign_vm(
    foreign_lab: tuple[LabSession, Foreign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, foreign = foreign_lab
    plan = _plan_before_adoption(session, foreign, tmp_path, monkeypatch)
    assert [c.split(" is held by ")[0] for c in plan.conflicts] == [
        f"VMID {vmid} (wanted for {name})" for vmid, name in zip(range(300, 305), NODES, strict=True)
    ]
    assert all(c.endswith("which the runner does not manage; it will not be touched") for c in plan.conflicts)


def test_before_adoption_the_plan_has_no_step(
    foreign_lab: tuple[LabSession, Foreign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, foreign = foreign_lab
    assert [s.id for s in _plan_before_adoption(session, foreign, tmp_path, monkeypatch).steps] == []
