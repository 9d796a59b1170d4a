"""The runner's os:admin client certificate goes only to the addresses of its connection targets.

A pull request may add a node or move one to a new address; until that is merged the address is not one of
the protected branch's targets, so no talosconfig is written for it and talosctl is never started.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.core.state import ObservedVm
from runner.drivers.talos import TalosctlDriver
from runner.engine.reconcile.clusterstate import ClusterFacts
from runner.engine.reconcile.observe import observe
from tests.planner.scenario import converged, desired_for

from .conftest import Bundle


def recording_talosctl(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "invocations"
    script = tmp_path / "talosctl"
    script.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexit 1\n')
    script.chmod(0o755)
    return script, log


def test_the_driver_refuses_an_address_outside_its_targets(bundle: Bundle, tmp_path: Path) -> None:
    talosctl, log = recording_talosctl(tmp_path)
    key = Secret(bundle.os_ca.key_pem.decode())
    driver = TalosctlDriver(
        bundle.os_ca.crt_pem, key, talosctl_path=str(talosctl), allowed_nodes=frozenset({"10.0.0.11"})
    )
    for call in (driver.stage, driver.version, driver.machine_config):
        with pytest.raises(Permanent) as err:
            call("10.0.0.99")
        assert str(err.value) == "refusing to contact 10.0.0.99: it is not a node of the cluster's connection targets"
    for batch in (driver.statuses, driver.versions, driver.machine_configs):  # one stranger spoils the batch
        with pytest.raises(Permanent, match=r"refusing to contact 10\.0\.0\.99"):
            batch(["10.0.0.11", "10.0.0.99"])
    assert not log.exists()  # talosctl never ran, so no talosconfig was written for it
    with contextlib.suppress(Permanent):  # the stand-in answers nothing useful; what matters is that it ran
        driver.stage("10.0.0.11")
    assert log.read_text().count("-n 10.0.0.11") >= 1


class RunningVms:
    def __init__(self, vms: list[ObservedVm]) -> None:
        self.vms = vms

    def list_vms(self) -> list[ObservedVm]:
        return self.vms


class NoContact:
    """Connections whose targets hold none of the desired addresses: touching Talos fails the test."""

    def __init__(self, vms: list[ObservedVm]) -> None:
        self.proxmox = RunningVms(vms)

    def may_contact(self, address: str) -> bool:
        return False

    @property
    def talos(self) -> object:
        raise AssertionError("Talos was contacted for an address outside the targets")


def test_observation_reads_a_node_at_a_new_address_as_unreachable_without_contact() -> None:
    desired = desired_for(None)
    vms = list(converged(desired).vms.values())  # every VM running: the Talos API would be asked at each address
    seen = observe(desired, NoContact(vms), ClusterFacts())  # type: ignore[arg-type]
    assert seen.talos == {}  # every node reads as unreachable: the planner's default for a node not observed
    assert not seen.cluster.bootstrapped
