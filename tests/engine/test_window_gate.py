"""The executor asks the window gate as each disruptive step falls due; held steps keep their dependents."""

from __future__ import annotations

from runner.core.steps import Kind, Plan, Step
from runner.engine.reconcile.executor import execute
from tests.engine.test_executor import FAST, Recorder


def test_a_closed_window_holds_disruptive_steps_and_what_depends_on_them_only() -> None:
    plan = Plan(
        "home",
        (
            Step("vm/303/update", Kind.UPDATE_VM, "vm/303", "memory 16384→24576 MiB"),
            Step("vm/303/reboot", Kind.REBOOT_VM, "vm/303", "apply memory", ("vm/303/update",), disruptive=True),
            Step("talos/worker-01/wait", Kind.WAIT_HEALTHY, "talos-worker-01", "back up", ("vm/303/reboot",)),
            Step("vm/304/update", Kind.UPDATE_VM, "vm/304", "disk 128→160 GiB"),
        ),
    )
    ran: list[str] = []
    asked: list[str] = []

    def gate(step: Step) -> str | None:
        asked.append(step.id)
        return "waiting for the maintenance window at 2026-12-05T02:00+01:00 (CET)"

    result = execute(plan, lambda s: ran.append(s.id) or None, Recorder(), policy=FAST, gate=gate)
    assert sorted(ran) == ["vm/303/update", "vm/304/update"]
    assert asked == ["vm/303/reboot"]  # only disruptive steps are asked, and only when due
    assert result.ok
    assert result.statuses == {
        "vm/303/update": "done",
        "vm/304/update": "done",
        "vm/303/reboot": "waiting",
        "talos/worker-01/wait": "skipped",
    }
    assert result.waiting == {"vm/303/reboot": "waiting for the maintenance window at 2026-12-05T02:00+01:00 (CET)"}


def test_an_open_window_lets_every_step_run() -> None:
    plan = Plan("home", (Step("vm/1/reboot", Kind.REBOOT_VM, "vm/1", "r", disruptive=True),))
    ran: list[str] = []
    result = execute(plan, lambda s: ran.append(s.id) or None, Recorder(), policy=FAST, gate=lambda s: None)
    assert (ran, result.statuses, result.waiting) == (["vm/1/reboot"], {"vm/1/reboot": "done"}, {})
