"""Restart safety: a run the process died in (or stopped during) is recorded as interrupted and runs again."""

from __future__ import annotations

import threading

import pytest
from servicekit import Recorder, wait_until


@pytest.mark.sqlite_only("a second process on the same file stands for the first one's death")
def test_hard_kill_mid_run_resumes_in_the_next_instance(start_runner) -> None:
    stuck = Recorder(gate=threading.Event(), honour_cancel=False)  # a process that never got to finish
    first = start_runner(stuck)
    first.hook("generic", {"ref": "main", "cluster": "home"})
    wait_until(stuck.started.is_set, what="run in flight")

    resumed = Recorder()
    second = start_runner(resumed)  # new process, same database: the first one is as good as dead
    runs = wait_until(lambda: len(second.finished_runs()) == 2 and second.finished_runs(), what="resumed run")
    assert [r["result"] for r in runs] == ["success", "interrupted"]
    assert resumed.clusters() == ["home"]

    stuck.gate.set()  # the "dead" worker wakes up late: it must not touch the books any more
    wait_until(lambda: len(stuck.calls) == 1, what="stale run returned")
    assert [r["result"] for r in second.finished_runs()] == ["success", "interrupted"]
    assert second.service.queue.items() == []


def test_graceful_stop_requeues_the_run_for_the_next_start(start_runner) -> None:
    held = Recorder(gate=threading.Event())
    first = start_runner(held)
    first.hook("generic", {"ref": "main", "cluster": "other"})
    wait_until(held.started.is_set, what="run in flight")
    first.stop()  # lifespan shutdown: the run sees ctx.cancelled() and stops between steps
    assert [r["result"] for r in first.service.journal.runs()] == ["interrupted"]
    assert first.service.queue.depth() == 1

    resumed = Recorder()
    second = start_runner(resumed)
    wait_until(lambda: resumed.clusters() == ["other"], what="resumed run")
    assert [r["result"] for r in second.finished_runs()] == ["success", "interrupted"]
