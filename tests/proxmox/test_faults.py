"""Injected trouble: 5xx and hangs are Transient, failed tasks are Permanent with their log tail."""

from __future__ import annotations

import pytest

from runner.core.errors import Permanent, Transient
from runner.core.state import VmSpec
from runner.drivers.proxmox import ProxmoxDriver, TaskFailed
from runner.lab.proxmox import Fault, ProxmoxTwin, ProxmoxTwinState


def test_injected_5xx_is_transient_then_recovers(driver: ProxmoxDriver, twin_state: ProxmoxTwinState):
    twin_state.faults.add(Fault("GET", "/cluster/resources", fail_status=503, fail_count=2, fail_message="busy"))
    for _ in range(2):
        with pytest.raises(Transient, match="503 busy"):
            driver.list_vms()
    assert driver.list_vms() == []


def test_hang_becomes_a_transient_timeout(make_driver, twin_state: ProxmoxTwinState):
    impatient = make_driver(timeout=0.2)
    twin_state.faults.add(Fault("GET", "/cluster/resources", hang=1.0))
    with pytest.raises(Transient, match="timed out"):
        impatient.list_vms()


def test_connection_refused_is_transient(own_twin: ProxmoxTwin, make_driver):
    gone = make_driver(to=own_twin, timeout=0.5)
    own_twin.stop()
    with pytest.raises(Transient, match="connection failed"):
        gone.list_vms()


def test_failed_task_log_tail_reaches_the_error(driver: ProxmoxDriver, created: list[VmSpec], twin_state):
    twin_state.faults.add(
        Fault(
            "POST",
            "/nodes/*/qemu/302/status/start",
            task_error="start failed: QEMU exited with code 1\nkvm: -drive: could not open disk image",
            task_error_count=1,
        )
    )
    with pytest.raises(TaskFailed) as failure:
        driver.start_vm("atlas", 302)
    assert failure.value.exitstatus == "start failed: QEMU exited with code 1"
    assert "kvm: -drive: could not open disk image" in str(failure.value)
    assert failure.value.log_tail[-1] == "TASK ERROR: start failed: QEMU exited with code 1"
    assert isinstance(failure.value, Permanent)
    driver.start_vm("atlas", 302)  # the fault was for one call only


def test_added_latency_does_not_change_results(driver: ProxmoxDriver, twin_state: ProxmoxTwinState):
    twin_state.faults.add(Fault("*", "/version", latency=0.05))
    assert driver.client.call("GET", "version")["version"] == twin_state.version


def test_call_log_records_status_and_can_be_reset(driver: ProxmoxDriver, twin_state: ProxmoxTwinState):
    twin_state.faults.add(Fault("GET", "/nodes", fail_status=500, fail_count=1))
    with pytest.raises(Transient):
        driver.client.call("GET", "nodes")
    driver.client.call("GET", "nodes")
    assert [c.status for c in twin_state.calls.matching("GET", "/nodes")] == [500, 200]
    twin_state.calls.reset()
    assert twin_state.calls.matching() == []
