"""The service survives its own storage: a long database lock pauses work (503 to webhooks, /readyz says
so), and once the lock is gone the queued work runs without a restart."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pygit2
import pytest
from servicekit import Recorder, push_body, wait_until

LOCK_SECONDS = 25.0


def hold_exclusive_lock(db_path: Path, seconds: float, taken: threading.Event) -> None:
    """Another process's connection holding the database, as a stuck backup or a long migration would."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    taken.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


@pytest.mark.sqlite_only("it holds the SQLite file's exclusive lock")
def test_a_25s_database_lock_pauses_the_service_and_the_queued_item_runs_after_it(
    tmp_path: Path, lab_git, start_runner
) -> None:
    recorder = Recorder()
    runner = start_runner(recorder, settle_seconds=2.0)  # the item is still pending when the lock is taken
    commit = str(pygit2.Repository(lab_git.url).references["refs/heads/main"].target)
    first = runner.hook("github", push_body(commit), delivery="before-lock")
    assert first.status_code == 202 and first.json()["status"] == "queued"

    taken = threading.Event()
    locker = threading.Thread(target=hold_exclusive_lock, args=(tmp_path / "runner.db", LOCK_SECONDS, taken))
    started = time.monotonic()
    locker.start()
    assert taken.wait(5)

    time.sleep(8)  # both workers have met the lock by now (claim waits db_busy_timeout, then errors)
    during = runner.hook("github", push_body(commit), delivery="during-lock")
    assert during.status_code == 503, during.text
    assert during.headers["retry-after"] == "30"
    ready = runner.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"] is False
    assert recorder.calls == []
    assert runner.service.worker.alive()  # paused, not dead

    locker.join()
    assert time.monotonic() - started >= LOCK_SECONDS
    runs = wait_until(lambda: len(runner.finished_runs()) == 2 and runner.finished_runs(), 30, "the queued runs")
    assert sorted(r["cluster"] for r in runs) == ["home", "other"]
    assert {r["result"] for r in runs} == {"success"}
    assert wait_until(lambda: runner.client.get("/readyz").status_code == 200, 15, "ready again")
    # The 503'd delivery was not recorded: its redelivery is taken, not called a duplicate.
    again = runner.hook("github", push_body(commit), delivery="during-lock")
    assert again.status_code == 202 and again.json()["status"] == "queued"
    assert runner.service.worker.alive()
