"""Coalescing and single-flight: bursts collapse, one run per cluster at a time, newest commit wins."""

from __future__ import annotations

import threading
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servicekit import Recorder, push_body, wait_until

from runner.engine.service.database import open_database
from runner.engine.service.queue import ANY_CLUSTER, Ask, QueueItem, RunRequest, WorkQueue
from runner.lab.gitserver import commit_files


def test_burst_of_100_deliveries_costs_at_most_two_runs_per_cluster(lab_git, start_runner, tmp_path) -> None:
    gate = threading.Event()
    recorder = Recorder(gate=gate)  # the first run stays in flight for the whole burst, as a real apply would
    # Gated runs of `home` and `other` hold two workers; a third sorts the deliveries, as an idle one would.
    runner = start_runner(recorder, workers=3)
    work = lab_git.clone(tmp_path / "work")
    commits = []
    for i in range(5):  # a few real commits touching only home, pushed in quick succession
        commits.append(commit_files(work, {"clusters/home/cluster.yaml": f"name: home\nrev: {i}\n"}, f"rev {i}"))
    lab_git.push(work)
    replies = [runner.hook("github", push_body(commits[i % 5])) for i in range(100)]
    assert all(r.status_code == 202 for r in replies)
    # The burst is over once the runner has sorted every delivery into per-cluster work; only then may the
    # first run end (a real apply lasts minutes, far longer than a burst).
    wait_until(
        lambda: (
            not [i for i in runner.service.queue.items() if i["cluster"] == ANY_CLUSTER and i["state"] == "pending"]
        ),
        what="every delivery sorted into per-cluster work",
    )
    gate.set()
    wait_until(lambda: runner.service.queue.depth() == 0 and not runner.service.queue.items(), what="queue drained")
    home_runs = runner.finished_runs(cluster="home")
    shas = [r["commit_sha"] for r in home_runs]  # newest run first
    # The newest delivery wins among pending items: the last run is of the last commit pushed. Before it there is
    # only the run that was already in flight during the burst, unless that one happened to be the last commit.
    assert shas[0] == commits[-1], ([s[:7] for s in shas], [c[:7] for c in commits])
    assert len(shas) == (1 if shas[-1] == commits[-1] else 2), ([s[:7] for s in shas], [c[:7] for c in commits])
    assert len(runner.finished_runs(cluster="other")) <= 1  # the seed commit, at most once


def test_a_burst_settles_into_one_run_before_work_starts(lab_git, start_runner, tmp_path) -> None:
    recorder = Recorder()
    runner = start_runner(recorder, settle_seconds=1.5)
    work = lab_git.clone(tmp_path / "work")
    commits = [commit_files(work, {"clusters/home/cluster.yaml": f"rev: {i}\n"}, f"rev {i}") for i in range(3)]
    lab_git.push(work)
    replies = [runner.hook("github", push_body(c)) for c in commits]
    # Three deliveries arrive well inside the settle window: the later ones coalesce into the first item.
    assert [r.json()["coalesced"] for r in replies] == [False, True, True]
    wait_until(lambda: len(runner.finished_runs(cluster="home")) >= 1 and not runner.service.queue.items())
    assert runner.finished_runs(cluster="home")[0]["commit_sha"] == commits[-1]


def test_late_delivery_of_an_older_commit_runs_nothing(lab_git, start_runner, tmp_path) -> None:
    recorder = Recorder()
    runner = start_runner(recorder)
    work = lab_git.clone(tmp_path / "work")
    old = commit_files(work, {"clusters/home/cluster.yaml": "rev: 1\n"}, "rev 1")
    new = commit_files(work, {"clusters/home/cluster.yaml": "rev: 2\n"}, "rev 2")
    lab_git.push(work)
    runner.hook("github", push_body(new))
    wait_until(lambda: not runner.service.queue.items() and runner.finished_runs(cluster="home"))
    runner.hook("github", push_body(old))
    wait_until(lambda: not runner.service.queue.items())
    assert [r["commit_sha"] for r in runner.finished_runs(cluster="home")] == [new]
    [run] = runner.finished_runs(cluster="home")
    assert len(run["deliveries"]) == 2  # the late one is answered by the run that applied a commit containing it


def test_an_older_delivery_arriving_while_a_newer_apply_runs_never_runs_after_it(
    lab_git, start_runner, tmp_path
) -> None:
    gate = threading.Event()
    recorder = Recorder(gate=gate)
    runner = start_runner(recorder, workers=3)  # home's and other's first applies stay in flight; one sorts
    work = lab_git.clone(tmp_path / "work")
    old = commit_files(work, {"clusters/home/cluster.yaml": "rev: 1\n"}, "rev 1")
    new = commit_files(work, {"clusters/home/cluster.yaml": "rev: 2\n"}, "rev 2")
    lab_git.push(work)
    runner.hook("github", push_body(new), delivery="new")
    wait_until(lambda: [r for r in runner.runs(cluster="home") if r["status"] == "running"], what="apply in flight")
    runner.hook("github", push_body(old), delivery="old")
    # The old push is handed to home's queue behind the running apply, which already contains it.
    wait_until(lambda: [i for i in runner.service.queue.items() if i["cluster"] == "home" and i["state"] == "pending"])
    gate.set()
    wait_until(lambda: not runner.service.queue.items(), what="queue drained")
    assert [c[1] for c in recorder.calls if c[0] == "home"] == [new]
    [run] = runner.finished_runs(cluster="home")
    assert (run["commit_sha"], sorted(run["deliveries"])) == (new, ["new", "old"])


def test_a_cluster_never_runs_twice_at_once(lab_git, start_runner) -> None:
    gate = threading.Event()
    recorder = Recorder(gate=gate)
    runner = start_runner(recorder, workers=4)
    runner.hook("generic", {"ref": "main", "cluster": "home"})
    wait_until(recorder.started.is_set, what="first run started")
    runner.hook("generic", {"ref": "main", "cluster": "home", "mode": "apply", "commit": ""}, delivery="second")
    runner.hook("generic", {"ref": "main", "cluster": "home"}, delivery="third")
    running = [r for r in runner.runs(cluster="home") if r["status"] == "running"]
    assert len(running) == 1
    assert runner.service.queue.depth() == 1  # the two later events coalesced into one pending item
    gate.set()
    wait_until(lambda: len(runner.finished_runs(cluster="home")) == 2, what="second run")


def test_pr_plan_and_branch_apply_are_different_keys(fresh_store: Callable[[], str]) -> None:
    queue = WorkQueue(open_database(fresh_store()))
    apply = RunRequest(cluster="home", commit="a" * 40, ref="refs/heads/main", trigger="push", mode="apply", repo="o/r")
    plan = RunRequest(
        cluster="home", commit="b" * 40, ref="feature", trigger="pull_request", mode="plan", repo="o/r", pr_number=7
    )
    assert not queue.enqueue(apply).coalesced
    assert not queue.enqueue(plan).coalesced
    assert queue.enqueue(RunRequest(**{**plan.__dict__, "commit": "c" * 40})).coalesced
    assert queue.depth() == 2


requests = st.builds(
    RunRequest,
    cluster=st.sampled_from(["home", ANY_CLUSTER]),  # few keys: events meet pending and running work
    commit=st.text("0123456789abcdef", min_size=40, max_size=40),
    ref=st.just("refs/heads/main"),
    trigger=st.sampled_from(["push", "poll", "drift"]),
    mode=st.sampled_from(["apply", "plan"]),
    repo=st.just("o/r"),
    pr_number=st.sampled_from([None, 1]),
    delivery_id=st.sampled_from([None, "d1", "d2", "d3", "d4"]),  # few ids: redeliveries repeat them
)
steps = st.one_of(
    st.tuples(st.just("event"), requests), st.tuples(st.sampled_from(["claim", "release", "restart"]), st.none())
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(steps, max_size=40))
def test_queue_invariants(fresh_store, steps) -> None:  # type: ignore[no-untyped-def]
    """Whatever arrives and whatever the workers do: at most one pending item per key, one running per cluster,
    a plan item holds its PR's newest commit, and no event is ever dropped (every ask is held by an item)."""
    queue = WorkQueue(open_database(fresh_store()))
    newest_plan: dict[str, str] = {}
    asked: dict[str, set[Ask]] = {}
    claimed: list[QueueItem] = []
    for step, request in steps:
        if step == "event":
            queue.enqueue(request)
            asked.setdefault(request.key, set()).add(Ask.of(request))
            if request.mode == "plan":
                newest_plan[request.key] = request.commit
        elif step == "claim" and (item := queue.claim("owner")) is not None:
            claimed.append(item)
            newest_plan.pop(item.request.key, None)  # a claimed plan has left the pending item behind
        elif step == "release" and claimed:
            queue.release(claimed.pop(0), "owner")
        elif step == "restart":
            queue.requeue_orphans(every_running=True)
            claimed.clear()
    items = queue.items()
    pending = [i for i in items if i["state"] == "pending"]
    keys = [f"{i['cluster']}|{i['mode']}|{i['pr'] or ''}" for i in pending]
    assert len(keys) == len(set(keys))
    for item, key in zip(pending, keys, strict=True):
        if item["mode"] == "plan" and key in newest_plan:
            assert item["commit_sha"] == newest_plan[key]
    held: dict[str, set[Ask]] = {}
    for item in items:
        key = f"{item['cluster']}|{item['mode']}|{item['pr'] or ''}"
        held.setdefault(key, set()).update(Ask(d, c) for d, c in item["asks"])
    assert held == asked
    running = [i["cluster"] for i in items if i["state"] == "running"]
    assert len(running) == len(set(running))
