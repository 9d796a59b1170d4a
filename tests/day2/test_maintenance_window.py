"""A maintenance window on a running lab cluster: a resize that needs a reboot waits for it, then runs in it."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from runner.cli.lab.session import LabSession
from tests.day2.conftest import CLUSTER_YAML, drift_run
from tests.e2e.labkit import describe

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-window")]

WINDOW = """maintenance:
  nodeMinutes: 30
  windows:
    - days: [sat]
      start: "02:00"
      duration: 4h
      timeZone: Europe/Berlin
"""
FRIDAY_NOON = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
SATURDAY_3AM_BERLIN = dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.UTC)


def step_statuses(lab: LabSession, run: dict[str, object]) -> dict[str, str]:
    details = lab.journal.run(int(run["id"])) or {}  # type: ignore[call-overload]
    return {s["step_id"]: s["status"] for s in details.get("steps", [])}


def test_a_reboot_waits_for_the_window_while_the_rest_proceeds_then_runs_inside_it(
    lab: LabSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    vm = lab.world.proxmox_state.vms[303]
    booted_at, memory_before = vm.started_at, vm.config["memory"]
    monkeypatch.setattr(lab.engine, "clock", lambda: FRIDAY_NOON)  # the lab's real clock again after the test
    text = (lab.clone / CLUSTER_YAML).read_text()
    text = text.replace("drift: correct\n", "drift: correct\n" + WINDOW)
    # worker-01 (vm 303) needs a reboot for its memory; worker-02 (vm 304) only grows its disk, online.
    text = text.replace(
        "memory: 16384\n    diskGb: 128\n  - name: talos-worker-02",
        "memory: 24576\n    diskGb: 128\n  - name: talos-worker-02",
        1,
    )
    text = text.replace("diskGb: 128\n\nflux:", "diskGb: 160\n\nflux:", 1)
    commit = lab.commit({CLUSTER_YAML: text}, "window, resize worker-01, grow worker-02")
    lab.push()
    run = lab.wait_for_run(commit, timeout=150)

    assert run["result"] == "success", describe(run)
    statuses = step_statuses(lab, run)
    # The drain is the first disruptive step of worker-01: it waits, and the reboot waits behind it.
    assert statuses == {"node/talos-worker-01/drain": "waiting", "vm/304/update": "succeeded"}, statuses
    held = "; 1 disruptive step waiting for the maintenance window at 2026-12-05T02:00+01:00 (CET)"
    assert run["summary"].endswith(held), run["summary"]
    plan = json.loads((lab.journal.run(int(run["id"])) or {})["plan_json"])
    assert plan["notes"][-1] == (
        "2 disruptive steps (node/talos-worker-01/drain, vm/303/update) waiting for the maintenance window at"
        " 2026-12-05T02:00+01:00 (CET);"
        " the rest runs now"
    )
    assert (vm.started_at, vm.config["memory"], vm.pending) == (booted_at, memory_before, {})

    monkeypatch.setattr(lab.engine, "clock", lambda: SATURDAY_3AM_BERLIN)
    inside = drift_run(lab)
    assert inside["result"] == "success", describe(inside)
    assert step_statuses(lab, inside) == {
        "node/talos-worker-01/drain": "succeeded",
        "vm/303/update": "succeeded",
        "node/talos-worker-01/uncordon": "succeeded",
    }
    assert vm.config["memory"] == "24576" and vm.started_at > booted_at
