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
