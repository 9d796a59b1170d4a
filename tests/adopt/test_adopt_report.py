"""`runner adopt` on a cluster the runner never built: a read-only report, its digest and exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.cli.lab.session import LabSession
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
    assert "l2announcements.enabled: (absent) → True" in cilium["values"]
    assert (
        "securityContext.capabilities.ciliumAgent: (absent) → "
        + ("[CHOWN, DAC_OVERRIDE, FOWNER, IPC_LOCK, KILL, NET_ADMIN, NET_RAW, SETGID, SETUID, SYS_ADMIN, SYS_RESOURCE]")
        in cilium["values"]
    )


def test_a_schematic_change_is_reported_as_an_upgrade_that_reboots(
    foreign_lab: tuple[LabSession, Foreign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, foreign = foreign_lab

    def drop_tailscale(doc: object) -> None:
        doc["talos"]["extensions"] = ["siderolabs/qemu-guest-agent"]  # type: ignore[index]
        del doc["tailscale"]  # type: ignore[attr-defined]

    code, report = adopt_json(session, monkeypatch, working_copy(session, foreign, tmp_path, drop_tailscale))
    assert code == 0, report["refusals"]
    assert all(n["reboot"] for n in report["nodes"])
    assert all(n["schematic"].endswith("(upgrade, reboots)") for n in report["nodes"])
