"""Bootstrap and etcd membership across control-plane nodes."""

from __future__ import annotations

import pytest

from runner.core.errors import Permanent, Transient
from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin
from tests.talos_nodes.conftest import Bundle, bootstrap_and_wait, install, running, talosctl_as_runner, wait_until

CONTROLLERS = {"10.0.0.11": "talos-cp-01", "10.0.0.12": "talos-cp-02", "10.0.0.13": "talos-cp-03"}
WORKER = "10.0.0.21"


def test_bootstrap_is_idempotent_for_the_driver(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    running(twin, bundle, "10.0.0.11", "controlplane", "talos-cp-01")
    bootstrap_and_wait(driver, "10.0.0.11")
    driver.bootstrap("10.0.0.11")  # AlreadyExists from the node counts as done
    assert driver.etcd_members("10.0.0.11") == ["10.0.0.11"]


def test_bootstrap_on_worker_is_permanent(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    running(twin, bundle, WORKER, "worker", "talos-worker-01")
    with pytest.raises(Permanent, match="FailedPrecondition desc = bootstrap can only be performed on a control plane"):
        driver.bootstrap(WORKER)


def test_three_controllers_form_three_member_etcd(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    for ip, name in CONTROLLERS.items():
        running(twin, bundle, ip, "controlplane", name)
    bootstrap_and_wait(driver, "10.0.0.11")

    members = driver.etcd_member_details("10.0.0.12")
    assert sorted(m.hostname for m in members) == sorted(CONTROLLERS.values())
    assert sorted(m.ip for m in members) == sorted(CONTROLLERS)
    cps = f"--control-plane-nodes={','.join(CONTROLLERS)}"
    health = talosctl_as_runner(driver, "health", "--wait-timeout=10s", "--server=false", cps, nodes=["10.0.0.11"])
    assert health.returncode == 0, health.stderr

    left = talosctl_as_runner(driver, "etcd", "leave", nodes=["10.0.0.13"])
    assert left.returncode == 0, left.stderr
    assert sorted(driver.etcd_members("10.0.0.11")) == ["10.0.0.11", "10.0.0.12"]
    gone = next(m for m in members if m.ip == "10.0.0.12")
    driver.etcd_remove_member("10.0.0.11", gone.id)
    assert driver.etcd_members("10.0.0.11") == ["10.0.0.11"]


def test_controller_joins_when_it_starts_after_bootstrap(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle
) -> None:
    running(twin, bundle, "10.0.0.11", "controlplane", "talos-cp-01")
    driver.bootstrap("10.0.0.11")
    install(twin, driver, bundle, "10.0.0.12", "controlplane", "talos-cp-02")  # the real apply path
    wait_until(lambda: len(driver.etcd_members("10.0.0.11")) == 2, "the second controller to join")


def test_upgrade_refuses_while_an_etcd_member_is_down(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    for ip, name in list(CONTROLLERS.items())[:2]:
        running(twin, bundle, ip, "controlplane", name)
    bootstrap_and_wait(driver, "10.0.0.11")
    wait_until(lambda: len(driver.etcd_members("10.0.0.11")) == 2, "both members")
    twin.power("10.0.0.12", False)
    with pytest.raises(Transient, match="all members must be healthy to perform an upgrade"):
        driver.upgrade("10.0.0.11", "ghcr.io/siderolabs/installer:v1.11.3")


def test_health_times_out_while_a_controller_is_down(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    for ip, name in list(CONTROLLERS.items())[:2]:
        running(twin, bundle, ip, "controlplane", name)
    bootstrap_and_wait(driver, "10.0.0.11")
    twin.power("10.0.0.12", False)
    cps = "--control-plane-nodes=10.0.0.11,10.0.0.12"
    health = talosctl_as_runner(driver, "health", "--wait-timeout=1s", "--server=false", cps, nodes=["10.0.0.11"])
    assert health.returncode == 1
    assert health.stderr.strip().endswith("context deadline exceeded")
