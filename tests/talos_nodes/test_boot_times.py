"""What a node reports about its boots belongs to its own lab: two labs in one test process (one xdist worker
runs many modules) never see each other's boots, whichever ran first."""

from __future__ import annotations

import datetime as dt

from runner.lab.talos import TalosLab
from runner.lab.talos.resources import list_resources

MACHINE_STATUS = "MachineStatuses.runtime.talos.dev"


def booted(lab: TalosLab, ip: str) -> dt.datetime:
    [status] = list_resources(lab, lab.nodes[ip], MACHINE_STATUS)
    return dt.datetime.strptime(status["metadata"]["created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def test_a_fresh_lab_reports_its_own_first_boot_whatever_an_earlier_lab_did_with_the_same_address() -> None:
    earlier = TalosLab()
    node = earlier.register("10.0.0.11", "talos-cp-01")
    for _ in range(5):  # five boots within a second: each is reported a second after the last
        node.boot_id = f"earlier-{_}"
        booted(earlier, "10.0.0.11")

    fresh = TalosLab()
    fresh.register("10.0.0.11", "talos-cp-01")
    first_boot = booted(fresh, "10.0.0.11")
    assert first_boot <= dt.datetime.now(dt.UTC), "a first boot reported in the future: another lab's boots leaked"


def test_reboots_in_one_lab_still_get_distinct_later_times() -> None:
    lab = TalosLab()
    node = lab.register("10.0.0.21", "talos-worker-01")
    times = []
    for i in range(3):
        node.boot_id = f"boot-{i}"
        times.append(booted(lab, "10.0.0.21"))
    assert times == sorted(set(times)), times
