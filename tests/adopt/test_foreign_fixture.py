from __future__ import annotations

from runner.cli.lab.session import LabSession
from tests.adopt.foreign import Foreign
from tests.e2e.labkit import etcd_member_ips, managed_vms, ready_kube_nodes, talos_phases


def test_the_foreign_cluster_runs_without_the_runner(foreign_lab: tuple[LabSession, Foreign]) -> None:
    session, foreign = foreign_lab
    assert managed_vms(session) == {}
    assert set(talos_phases(session).values()) == {"running"}
    assert etcd_member_ips(session) == {"10.0.0.11", "10.0.0.12", "10.0.0.13"}
    assert len(foreign.macs) == 5 and len(set(foreign.macs.values())) == 5
    assert ready_kube_nodes(session) == {
        "talos-cp-01",
        "talos-cp-02",
        "talos-cp-03",
        "talos-worker-01",
        "talos-worker-02",
    }


def test_the_foreign_vms_are_what_proxmox_made_of_the_operators_resources(
    foreign_lab: tuple[LabSession, Foreign],
) -> None:
    session, foreign = foreign_lab
    state = session.world.proxmox_state
    with state.lock:
        configs = {vmid: dict(state.vms[vmid].config) for vmid in range(300, 305)}
    assert {vmid: "tags" in c for vmid, c in configs.items()} == dict.fromkeys(range(300, 305), False)
    assert {(c["machine"], c["bios"], c["scsihw"], c["cpu"], c["agent"]) for c in configs.values()} == {
        ("q35", "ovmf", "virtio-scsi-single", "host", "enabled=1,fstrim_cloned_disks=0,type=virtio")
    }
    # The MAC is the one Proxmox picked (PVE's BC:24:11 prefix), and the one the operator read off it.
    assert {vmid: c["net0"] for vmid, c in configs.items()} == {
        vmid: f"virtio={foreign.macs[name]},bridge=vmbr0,firewall=0"
        for vmid, name in zip(range(300, 305), sorted(foreign.macs), strict=True)
    }
    assert {mac[:8] for mac in foreign.macs.values()} == {"BC:24:11"}
    assert [c["memory"] for c in configs.values()] == ["8192", "8192", "8192", "16384", "16384"]
