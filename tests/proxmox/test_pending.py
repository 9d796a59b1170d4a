"""Pending values, as qemu-server keeps them: what a running VM takes at once, what waits for its next start,
and how `/config`, `/config?current=1` and `/pending` show the difference."""

from __future__ import annotations

from typing import Any

from conftest import Api

from runner.core.state import VmSpec
from runner.drivers.proxmox import ProxmoxDriver

VM = "/nodes/atlas/qemu/301"


def put(api: Api, **params: Any) -> None:
    """PUT .../config: the synchronous update (no worker task)."""
    reply = api.request("PUT", f"{VM}/config", **params)
    assert reply.status_code == 200, reply.reason


def pending(api: Api) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in api.request("GET", f"{VM}/pending").json()["data"]}


def config(api: Api, current: bool = False) -> dict[str, Any]:
    params = {"current": 1} if current else {}
    return dict(api.request("GET", f"{VM}/config", **params).json()["data"])


def running(driver: ProxmoxDriver, created: list[VmSpec]) -> None:
    driver.start_vm("atlas", created[1].vmid)


def test_a_running_vm_keeps_memory_cores_and_cpu_pending_and_takes_tags_and_onboot_at_once(driver, created, api):
    running(driver, created)
    put(api, memory="8192", cores=3, cpu="x86-64-v2-AES", tags="a;b", onboot=0)
    rows = pending(api)
    assert rows["memory"] == {"key": "memory", "value": "4096", "pending": "8192"}
    assert rows["cores"] == {"key": "cores", "value": 2, "pending": 3}
    assert rows["cpu"]["pending"] == "x86-64-v2-AES"
    assert "pending" not in rows["tags"] and rows["tags"]["value"] == "a;b"
    assert rows["onboot"] == {"key": "onboot", "value": 0}
    # /config shows the pending values applied, current=1 what the guest runs with
    assert (config(api)["memory"], config(api)["cores"]) == ("8192", 3)
    assert (config(api, current=True)["memory"], config(api, current=True)["cores"]) == ("4096", 2)
    status = api.request("GET", f"{VM}/status/current").json()["data"]
    assert status["maxmem"] == 4096 * 1024 * 1024


def test_a_stopped_vm_applies_everything_at_once(driver, created, api):
    put(api, memory="8192", cores=2)
    assert not [row for row in pending(api).values() if "pending" in row or "delete" in row]
    assert config(api, current=True)["memory"] == "8192"


def test_memory_hotplug_applies_memory_live_but_not_cores(driver, created, api):
    put(api, hotplug="network,disk,usb,memory", numa=1)
    running(driver, created)
    put(api, memory="8192", cores=3)
    rows = pending(api)
    assert "pending" not in rows["memory"] and rows["memory"]["value"] == "8192"
    assert rows["cores"]["pending"] == 3


def test_a_reboot_applies_pending_values_and_a_guest_sees_them(driver, created, api):
    running(driver, created)
    put(api, memory="8192")
    driver.reboot_vm("atlas", created[1].vmid)
    assert pending(api)["memory"] == {"key": "memory", "value": "8192"}
    assert config(api, current=True)["memory"] == "8192"


def test_stop_and_start_apply_pending_values(driver, created, api):
    running(driver, created)
    put(api, cores=3)
    driver.stop_vm("atlas", created[1].vmid)
    assert pending(api)["cores"]["pending"] == 3  # stopping alone applies nothing
    driver.start_vm("atlas", created[1].vmid)
    assert pending(api)["cores"] == {"key": "cores", "value": 3}


def test_any_change_to_a_stopped_vm_applies_what_was_pending(driver, created, api):
    running(driver, created)
    put(api, memory="8192")
    driver.stop_vm("atlas", created[1].vmid)
    put(api, onboot=1)
    assert pending(api)["memory"] == {"key": "memory", "value": "8192"}


def test_setting_the_current_value_again_drops_the_pending_one(driver, created, api):
    running(driver, created)
    put(api, memory="8192")
    put(api, memory="4096")
    assert pending(api)["memory"] == {"key": "memory", "value": "4096"}


def test_a_delete_that_cannot_be_hot_unplugged_is_pending(driver, created, api):
    running(driver, created)
    put(api, delete="cores")
    assert pending(api)["cores"] == {"key": "cores", "value": 2, "delete": 1}
    assert "cores" not in config(api) and config(api, current=True)["cores"] == 2
    driver.reboot_vm("atlas", created[1].vmid)
    assert "cores" not in pending(api)


def test_agent_enabling_waits_but_an_fstrim_change_is_live(driver, created, api):
    running(driver, created)
    put(api, agent="enabled=1,fstrim_cloned_disks=1")
    assert "pending" not in pending(api)["agent"]
    put(api, agent="enabled=0,fstrim_cloned_disks=1")
    assert pending(api)["agent"]["pending"] == "enabled=0,fstrim_cloned_disks=1"
