"""The runner converges despite the world: a restart mid-apply, a flaky slow Proxmox, a node stuck in maintenance."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runner.cli.lab.session import LabSession
from runner.lab.proxmox import Delays, Fault
from runner.lab.talos import NodeFaults

from .labkit import (
    EXPECTED_ENDPOINT,
    describe,
    managed_vms,
    plan_steps,
    ready_kube_nodes,
    request_run,
    runs,
    talos_phases,
    wait_until,
)

pytestmark = pytest.mark.e2e

MakeLab = Callable[..., LabSession]


def assert_converged(session: LabSession) -> None:
    assert sorted(managed_vms(session)) == [300, 301, 302, 303, 304]
    assert all(vm.status == "running" for vm in managed_vms(session).values())
    assert set(talos_phases(session).values()) == {"running"}
    assert len(ready_kube_nodes(session)) == 5
    facts = session.store.get("home")
    assert facts.handoff_at is not None and facts.endpoint == EXPECTED_ENDPOINT


@pytest.mark.xdist_group("restart")
def test_e_a_runner_stopped_mid_apply_resumes_after_restart(make_lab: MakeLab) -> None:
    session = make_lab()
    session.seed_clone()
    commit = session.push()
    # Between steps of the bootstrap: the VMs exist, the nodes are not configured yet.
    wait_until(lambda: len(managed_vms(session)) == 5, "the five VMs to be created")
    session.restart_service()

    run = session.wait_for_run(commit, timeout=120)
    assert run["result"] == "success", describe(run)
    interrupted = [r for r in runs(session, "apply") if r["result"] == "interrupted"]
    assert [r["commit_sha"] for r in interrupted] == [commit], "the stopped run is recorded as interrupted"
    resumed = plan_steps(run)
    assert not [s for s in resumed if s["kind"] == "create_vm"], "VMs made before the restart are not made again"
    creates = session.world.proxmox_state.calls.matching("POST", "/nodes/*/qemu")
    assert len([c for c in creates if c.status == 200]) == 5
    assert_converged(session)


@pytest.mark.xdist_group("proxmox-faults")
def test_f_a_flaky_slow_proxmox_still_converges(make_lab: MakeLab) -> None:
    session = make_lab()
    px = session.world.proxmox_state
    with px.lock:  # tasks (imports, starts) take several times longer than usual
        px.delays = Delays(task=0.2, create=0.6, start=0.4, shutdown=0.2, download=0.4)
    faults = [
        px.faults.add(Fault("POST", "/nodes/*/qemu", fail_status=500, fail_count=2, fail_message="got timeout")),
        px.faults.add(Fault("POST", "/nodes/*/qemu/*/status/start", fail_status=502, fail_count=1, latency=0.3)),
        px.faults.add(Fault("POST", "/nodes/*/storage/*/download-url", fail_status=503, fail_count=1)),
        px.faults.add(Fault("GET", "/nodes/*/tasks/*/status", latency=0.05)),
    ]
    session.seed_clone()
    commit = session.push()
    run = session.wait_for_run(commit, timeout=150)
    assert run["result"] == "success", describe(run)
    assert all(f.fail_count == 0 for f in faults), "every injected failure was met"
    failed = {c.status for c in px.calls.matching() if c.status >= 500}
    assert failed == {500, 502, 503}
    assert_converged(session)


@pytest.mark.xdist_group("proxmox-faults")
def test_f_a_5xx_while_observing_is_retried(make_lab: MakeLab) -> None:
    session = make_lab()
    px = session.world.proxmox_state
    fault = px.faults.add(Fault("GET", "/cluster/resources", fail_status=503, fail_count=1))
    session.seed_clone()
    run = session.wait_for_run(session.push(), timeout=150)
    assert fault.fail_count == 0
    assert run["result"] == "success", describe(run)
    assert_converged(session)


@pytest.mark.xdist_group("talos-faults")
def test_a_node_stuck_in_maintenance_fails_the_run_naming_it_then_recovers(make_lab: MakeLab) -> None:
    session = make_lab(boot_timeout=4)
    lab = session.world.talos.lab
    lab.set_faults("10.0.0.13", NodeFaults(stuck_in_maintenance=True))
    session.seed_clone()
    commit = session.push()
    failed = session.wait_for_run(commit, timeout=90)
    assert failed["result"] == "failure", describe(failed)
    assert "talos-cp-03" in failed["error"] and "10.0.0.13" in failed["error"], failed["error"]
    assert session.store.get("home").handoff_at is None

    lab.set_faults("10.0.0.13", NodeFaults())
    assert request_run(session).status_code == 202
    again = wait_until(
        lambda: [r for r in runs(session, "apply") if r["trigger"] == "manual" and r["status"] == "finished"],
        "the run after clearing the fault",
        120,
    )[0]
    assert again["result"] == "success", describe(again)
    assert_converged(session)
