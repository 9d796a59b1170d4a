"""A node's life as the driver sees it: maintenance, install, running, reboot, upgrade, faults."""

from __future__ import annotations

import pytest

from runner.core.errors import Permanent, Transient
from runner.core.secret import Secret
from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin
from tests.talos_nodes.conftest import Bundle, boot_to_maintenance, running, talosctl_as_runner, wait_until

CP = "10.0.0.11"


def test_powered_off_node_is_unreachable(twin: TalosTwin, driver: TalosctlDriver) -> None:
    twin.register(CP)
    assert driver.stage(CP) == "unreachable"


def test_insecure_apply_in_maintenance_installs_and_runs(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle
) -> None:
    boot_to_maintenance(twin, CP, "talos-cp-01")
    assert driver.stage(CP) == "maintenance"

    driver.apply_config(CP, Secret(bundle.config("controlplane", "talos-cp-01")), insecure=True)
    assert twin.lab.nodes[CP].phase in ("installing", "running")

    wait_until(lambda: driver.stage(CP) == "running", "the node to run after install")
    assert driver.version(CP) == "v1.11.2"
    assert driver.machine_config(CP).reveal() == bundle.config("controlplane", "talos-cp-01")


def test_secure_apply_on_running_node_changes_config(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    changed = bundle.config("controlplane", "talos-cp-01").replace("certSANs: []", "certSANs: [10.0.0.20]")

    details = driver.apply_config(CP, Secret(changed), insecure=False, mode="no-reboot")

    assert details == "Applied configuration without a reboot"
    assert "10.0.0.20" in driver.machine_config(CP).reveal()


def test_maintenance_rejects_no_reboot_mode(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    boot_to_maintenance(twin, CP)
    with pytest.raises(Permanent, match="--mode='no-reboot' is not supported in maintenance mode"):
        driver.apply_config(CP, Secret(bundle.config("controlplane", "cp")), insecure=True, mode="no-reboot")


def test_upgrade_reboots_into_new_version(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    driver.upgrade(CP, "factory.talos.dev/installer/abc123:v1.11.3")
    wait_until(lambda: twin.phase(CP) == "running", "the node to come back")
    assert driver.version(CP) == "v1.11.3"


def test_reboot_returns_to_running(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    boot_id = twin.lab.nodes[CP].boot_id
    assert talosctl_as_runner(driver, "reboot", "--wait=false", nodes=[CP]).returncode == 0
    wait_until(lambda: twin.phase(CP) == "running", "the node to come back")
    assert twin.lab.nodes[CP].boot_id != boot_id


def test_node_stuck_in_maintenance(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    boot_to_maintenance(twin, CP)
    twin.set_faults(CP, stuck_in_maintenance=True)
    driver.apply_config(CP, Secret(bundle.config("controlplane", "cp")), insecure=True)
    assert driver.stage(CP) == "maintenance"


def test_node_that_never_comes_back_after_reboot(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    twin.set_faults(CP, no_return_after_reboot=True)
    assert talosctl_as_runner(driver, "reboot", "--wait=false", nodes=[CP]).returncode == 0
    assert driver.stage(CP) == "unreachable"
    with pytest.raises(Transient, match="connection refused"):
        driver.version(CP)


def test_reset_without_reboot_wipes_and_powers_off(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    running(twin, bundle, CP, "worker", "talos-worker-01")
    reset = talosctl_as_runner(driver, "reset", "--graceful=true", "--reboot=false", "--wait=false", nodes=[CP])
    assert reset.returncode == 0, reset.stderr
    assert twin.phase(CP) == "off"
    twin.power(CP, True)
    wait_until(lambda: twin.phase(CP) == "maintenance", "maintenance after reset")
