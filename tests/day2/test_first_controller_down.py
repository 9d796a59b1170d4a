"""The first controller goes down: the runner goes on through the others and never bootstraps again.

The first controller in spec order is the one `bootstrap` ran on, and it leads every node list the runner
asks Talos for. Losing it must cost neither the reconcile nor the cluster: a `bootstrap` planned because
that node did not answer would, on a reinstalled disk, start a second etcd beside the one the others keep.
"""

from __future__ import annotations

from typing import Any

import pytest

from runner.cli.lab.session import LabSession
from tests.day2.conftest import drift_run, plan_of, proxmox, steps_of
from tests.e2e.labkit import describe, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-first-controller")]  # one lab, in order
FIRST = "10.0.0.11"  # talos-cp-01, VM 300


def kinds_and_targets(lab: LabSession, run: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["kind"], s["target"]) for s in plan_of(lab, run)["steps"]]  # type: ignore[attr-defined]


def etcd_members(lab: LabSession) -> set[str]:
    talos = lab.world.talos.lab
    with talos.lock:
        return {m.ip for members in talos.etcd.values() for m in members.values()}


def test_a_stopped_first_controller_is_started_again_never_bootstrapped(lab: LabSession) -> None:
    proxmox(lab).stop_vm("atlas", 300)  # someone stops it in the Proxmox UI
    run = drift_run(lab)
    assert run["result"] == "success", describe(run)
    planned = kinds_and_targets(lab, run)
    assert ("start_vm", "vm/300") in planned
    assert [target for kind, target in planned if kind == "bootstrap"] == []
    assert "cluster/bootstrap" not in steps_of(lab, run)
    assert etcd_members(lab) == {FIRST, "10.0.0.12", "10.0.0.13"}


def test_a_crashed_first_controller_fails_the_run_by_name_and_the_next_one_converges(lab: LabSession) -> None:
    lab.world.talos.power(FIRST, False)  # its VM runs on, Talos answers no more (a kernel panic, say)
    failed = drift_run(lab)
    assert failed["result"] == "failure", describe(failed)
    assert "bootstrap" not in [kind for kind, _ in kinds_and_targets(lab, failed)]
    # The run stops at the node that does not answer, by name, after waiting its boot timeout for it.
    assert "failed at node/talos-cp-01/config" in describe(failed)
    assert f"talos-cp-01 ({FIRST}) reaching maintenance or running" in (failed["error"] or ""), describe(failed)
    lab.world.talos.power(FIRST, True)  # it reboots
    wait_until(lambda: lab.world.talos.phase(FIRST) == "running", "talos-cp-01 running again", timeout=60)
    converged = drift_run(lab)
    assert converged["result"] == "success", describe(converged)
    assert "bootstrap" not in [kind for kind, _ in kinds_and_targets(lab, converged)]
    assert etcd_members(lab) == {FIRST, "10.0.0.12", "10.0.0.13"}
