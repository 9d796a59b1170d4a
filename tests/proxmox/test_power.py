"""Power state machine: start/shutdown/stop/reboot/delete and PVE's refusals."""

from __future__ import annotations

import pytest

from runner.core.errors import Permanent
from runner.core.state import VmSpec
from runner.drivers.proxmox import ProxmoxDriver
from runner.lab.proxmox import ProxmoxTwinState


def _task_status(api, upid: str) -> dict:
    while True:
        status = api.request("GET", f"/nodes/atlas/tasks/{upid}/status").json()["data"]
        if status["status"] == "stopped":
            return status


def test_upid_has_the_real_format(api, created: list[VmSpec]):
    upid = api.request("POST", "/nodes/atlas/qemu/300/status/start").json()["data"]
    parts = upid.split(":")
    assert len(parts) == 9 and parts[0] == "UPID" and parts[1] == "atlas"
    assert all(len(p) == 8 and int(p, 16) >= 0 for p in parts[2:5])
    assert parts[5:8] == ["qmstart", "300", "root@pam!runner"]
    status = _task_status(api, upid)
    assert (status["exitstatus"], status["user"], status["tokenid"]) == ("OK", "root@pam", "runner")


def test_start_of_running_vm_fails_the_task_like_pve(api, driver: ProxmoxDriver, created: list[VmSpec]):
    driver.start_vm("atlas", 300)
    upid = api.request("POST", "/nodes/atlas/qemu/300/status/start").json()["data"]
    assert _task_status(api, upid)["exitstatus"] == "VM 300 already running"
    log = api.request("GET", f"/nodes/atlas/tasks/{upid}/log").json()
    assert log["data"][-1]["t"] == "TASK ERROR: VM 300 already running"
    driver.start_vm("atlas", 300)  # the driver treats it as done


def test_status_current_reports_qmpstatus(api, driver: ProxmoxDriver, created: list[VmSpec]):
    assert api.request("GET", "/nodes/atlas/qemu/301/status/current").json()["data"]["qmpstatus"] == "stopped"
    driver.start_vm("atlas", 301)
    status = api.request("GET", "/nodes/atlas/qemu/301/status/current").json()["data"]
    assert (status["status"], status["qmpstatus"], status["agent"]) == ("running", "running", 1)


def test_start_is_asynchronous(api, created: list[VmSpec], twin_state: ProxmoxTwinState):
    twin_state.delays.start = 30.0
    upid = api.request("POST", "/nodes/atlas/qemu/300/status/start").json()["data"]
    status = api.request("GET", f"/nodes/atlas/tasks/{upid}/status").json()["data"]
    assert status["status"] == "running" and "exitstatus" not in status
    assert api.request("GET", "/nodes/atlas/qemu/300/status/current").json()["data"]["status"] == "stopped"


def test_delete_running_vm_is_refused(driver: ProxmoxDriver, created: list[VmSpec]):
    driver.start_vm("atlas", 303)
    with pytest.raises(Permanent, match="VM 303 is running - destroy failed"):
        driver.delete_vm("atlas", 303)


def test_stop_then_delete_frees_vmid_and_disks(driver, created: list[VmSpec], twin_state: ProxmoxTwinState):
    driver.start_vm("atlas", 304)
    driver.stop_vm("atlas", 304)  # as the runner takes a removed node's VM down, after etcd and Kubernetes let go
    driver.delete_vm("atlas", 304)
    assert 304 not in {vm.vmid for vm in driver.list_vms()}
    assert not [v for v in twin_state.storages["local-lvm"].volumes if "vm-304-" in v]
    with pytest.raises(Permanent, match=r"Configuration file 'nodes/atlas/qemu-server/304.conf' does not exist"):
        driver.vm_config("atlas", 304)


def test_reboot_of_stopped_vm_is_refused(driver: ProxmoxDriver, created: list[VmSpec]):
    with pytest.raises(Permanent, match="VM 300 not running"):
        driver.reboot_vm("atlas", 300)


def test_stop_is_idempotent(driver: ProxmoxDriver, created: list[VmSpec]):
    driver.stop_vm("atlas", 300)
    driver.start_vm("atlas", 300)
    driver.stop_vm("atlas", 300)
    assert {vm.vmid: vm.status for vm in driver.list_vms()}[300] == "stopped"
