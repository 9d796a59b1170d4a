"""Was etcd bootstrapped? Read from Talos on every controller, through the real driver and the node twins.

A member list that times out is what a never-bootstrapped controller says, and also what a bootstrapped etcd
says while it starts: the etcd service's state and the runner's record of the call it made tell them apart.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace
from typing import Any

import pytest

from runner.core.errors import Transient
from runner.drivers.talos import TalosctlDriver
from runner.engine.reconcile.clusterstate import ClusterFacts
from runner.engine.reconcile.etcd_bootstrap import bootstrap_verdict
from runner.lab.talos import TalosTwin
from tests.talos_nodes.conftest import Bundle, running, wait_until

CONTROLLERS = {"10.0.0.11": "talos-cp-01", "10.0.0.12": "talos-cp-02", "10.0.0.13": "talos-cp-03"}
FIRST = "10.0.0.11"


def verdict(driver: TalosctlDriver, facts: ClusterFacts | None = None, patience: float = 600) -> str:
    desired: Any = SimpleNamespace(bootstrap_node=SimpleNamespace(ip=FIRST))
    conns: Any = SimpleNamespace(talos=driver, settings=SimpleNamespace(boot_timeout=patience))
    return bootstrap_verdict(desired, conns, facts or ClusterFacts(), list(CONTROLLERS))


def ago(seconds: float) -> str:
    return (datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds)).isoformat(timespec="seconds")


@pytest.fixture
def controllers(twin: TalosTwin, bundle: Bundle) -> TalosTwin:
    for ip, name in CONTROLLERS.items():
        running(twin, bundle, ip, "controlplane", name)
    return twin


def test_controllers_waiting_to_join_were_never_bootstrapped(controllers: TalosTwin, driver: TalosctlDriver) -> None:
    assert verdict(driver) == "absent"


def test_a_running_etcd_that_does_not_serve_yet_is_starting(controllers: TalosTwin, driver: TalosctlDriver) -> None:
    controllers.lab.delays.etcd_start = 60.0
    driver.bootstrap(FIRST)
    wait_until(lambda: driver.etcd_services([FIRST])[FIRST].state == "Running", "etcd running")
    with pytest.raises(Transient, match="context deadline exceeded"):
        driver.etcd_members(FIRST)  # what the runner read as "never bootstrapped"
    assert verdict(driver) == "starting"


def test_a_bootstrap_asked_for_a_moment_ago_is_waited_for_while_etcd_prepares(
    controllers: TalosTwin, driver: TalosctlDriver
) -> None:
    controllers.lab.delays.etcd_bootstrap = 60.0  # the pre-start: Preparing, as before any bootstrap
    driver.bootstrap(FIRST)
    assert {s.state for s in driver.etcd_services(list(CONTROLLERS)).values()} == {"Preparing"}
    asked = ClusterFacts(bootstrap_requested_at=ago(5), bootstrap_requested_on=FIRST)
    assert verdict(driver, asked) == "starting"
    # Waited out (longer than a node may take to boot) with no etcd running anywhere: the call never arrived.
    stale = ClusterFacts(bootstrap_requested_at=ago(700), bootstrap_requested_on=FIRST)
    assert verdict(driver, stale) == "absent"


def test_members_listed_through_the_first_controller_mean_bootstrapped(
    controllers: TalosTwin, driver: TalosctlDriver
) -> None:
    driver.bootstrap(FIRST)
    wait_until(lambda: verdict(driver) == "bootstrapped", "etcd serving")


def test_a_running_controller_that_does_not_answer_leaves_it_undecided(
    controllers: TalosTwin, driver: TalosctlDriver
) -> None:
    controllers.power("10.0.0.13", False)  # Talos ran there a moment ago: it may be the one whose etcd runs
    assert verdict(driver) == "unknown"
