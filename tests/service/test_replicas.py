"""Two `runner serve` replicas on one PostgreSQL: one run per cluster across both, and a replica killed with
SIGKILL mid-run is replaced: its claim and lease run out, the other replica runs the work to the end, no step
ever runs on both at once, and no delivery answered 2xx is lost.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from logged_steps import CALL_LOG_ENV, STEPS_ENV
from serveproc import Push, ServeProcess, pushes
from servicekit import HERE, wait_until

from runner.lab.gitserver import LabGitServer, commit_files
from tests.pg import Postgres

pytestmark = pytest.mark.postgres
LEASE_SECONDS = "3"


@pytest.fixture
def replicas(
    tmp_path: Path, lab_git: LabGitServer, postgres: Postgres
) -> Iterator[Callable[..., tuple[ServeProcess, ServeProcess]]]:
    made: list[ServeProcess] = []
    urls: list[str] = []

    def make(steps: str) -> tuple[ServeProcess, ServeProcess]:
        url = postgres.new_database()
        urls.append(url)
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            settings = {
                "RUNNER_DATABASE_URL": url,
                "RUNNER_LEASE_SECONDS": LEASE_SECONDS,
                "RUNNER_RUN_FN": "logged_steps:logged_steps",
                "PYTHONPATH": str(HERE),
                CALL_LOG_ENV: str(tmp_path / "calls.jsonl"),
                STEPS_ENV: steps,
            }
            made.append(ServeProcess(tmp_path / name, lab_git, settings).start())
        return made[0], made[1]

    yield make
    for replica in made:
        replica.stop()
    for url in urls:
        postgres.drop_database(url)


def calls(tmp_path: Path, cluster: str = "home") -> list[dict[str, Any]]:
    """The step calls made for `cluster`, in the order they were made."""
    path = tmp_path / "calls.jsonl"
    found = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [call for call in found if call["cluster"] == cluster]


def step_intervals(log: list[dict[str, Any]], killed: dict[int, float]) -> list[tuple[float, float, int, str]]:
    """(start, end, pid, step) of every step call; a call cut off by SIGKILL ends when its process was killed."""
    started: dict[tuple[int, str], float] = {}
    spans = []
    for call in log:
        key = (call["pid"], call["step"])
        if call["event"] == "start":
            started[key] = call["t"]
        else:
            spans.append((started.pop(key), call["t"], call["pid"], call["step"]))
    spans += [(t, killed[pid], pid, step) for (pid, step), t in started.items()]
    return sorted(spans)


def more_pushes(lab_git: LabGitServer, tmp_path: Path, name: str, count: int) -> list[Push]:
    work = lab_git.clone(tmp_path / name)
    commits = [
        commit_files(work, {"clusters/home/cluster.yaml": f"name: home\n{name}: {i}\n"}, f"{name} {i}")
        for i in range(count)
    ]
    lab_git.push(work)
    return pushes(lab_git, commits)


def test_kill_9_of_the_replica_holding_the_cluster_hands_the_run_to_the_other(lab_git, replicas, tmp_path) -> None:
    a, b = replicas("6x0.5")
    first = more_pushes(lab_git, tmp_path, "first", 1)
    assert a.deliver(first[0]).status_code == 202
    wait_until(lambda: len([c for c in calls(tmp_path) if c["event"] == "end"]) >= 2, 60, "two steps done")
    holder_pid = calls(tmp_path)[0]["pid"]
    holder, survivor = (a, b) if a.proc and a.proc.pid == holder_pid else (b, a)
    assert holder.proc is not None and holder.proc.pid == holder_pid
    # Deliveries keep arriving while the holder dies: the survivor answers them, and none is lost.
    late = more_pushes(lab_git, tmp_path, "late", 2)
    assert survivor.deliver(late[0]).status_code == 202
    killed_at = time.time()
    holder.kill()
    assert survivor.deliver(late[1]).status_code == 202

    head = late[-1].commit
    wait_until(lambda: survivor.quiet() and head in survivor.applied("home"), 90, "the survivor to apply the head")
    runs = survivor.runs(cluster="home")
    assert [r["result"] for r in runs] == ["interrupted", "success"]
    assert runs[0]["summary"] == "interrupted: the runner stopped during this run"
    assert runs[1]["commit_sha"] == head
    assert runs[1]["deliveries"] == [first[0].delivery, late[0].delivery, late[1].delivery]

    log = calls(tmp_path)
    survivor_pid = survivor.proc.pid if survivor.proc else -1
    assert {c["pid"] for c in log} == {holder_pid, survivor_pid}
    assert [c["step"] for c in log if c["pid"] == survivor_pid and c["event"] == "end"] == [
        f"step-{i}" for i in range(6)
    ]  # the new holder ran the whole plan again: every step is idempotent
    spans = step_intervals(log, {holder_pid: killed_at})
    for (_, end, pid, step), (start, _, next_pid, next_step) in itertools.pairwise(spans):
        assert end <= start, f"{step} on {pid} overlaps {next_step} on {next_pid}"


def test_a_burst_of_100_deliveries_over_both_replicas_costs_at_most_two_runs(lab_git, replicas, tmp_path) -> None:
    a, b = replicas("2x0.2")
    sent = more_pushes(lab_git, tmp_path, "burst", 5)
    burst = [Push(str(uuid.uuid4()), p.commit, p.body) for p in sent for _ in range(20)]
    start = threading.Barrier(10)

    def deliver(index: int) -> int:
        if index < 10:
            start.wait()
        return (a if index % 2 else b).deliver(burst[index]).status_code

    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(deliver, range(len(burst))))
    assert codes == [202] * 100
    head = sent[-1].commit
    wait_until(lambda: a.quiet() and head in a.applied("home"), 90, "the burst to be worked off")
    runs = a.runs(cluster="home")
    assert 1 <= len(runs) <= 2
    assert all(r["result"] == "success" for r in runs)
    answered = [d for r in runs for d in r["deliveries"]]
    assert sorted(answered) == sorted(p.delivery for p in burst)
