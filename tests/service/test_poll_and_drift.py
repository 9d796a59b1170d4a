"""Without webhooks the runner still converges: the poll fallback sees new heads, drift re-runs every cluster."""

from __future__ import annotations

from servicekit import Recorder, wait_until

from runner.lab.gitserver import commit_files


def test_poll_fallback_queues_a_push_nobody_announced(lab_git, start_runner, tmp_path) -> None:
    recorder = Recorder()
    runner = start_runner(recorder, poll_interval=0.1)  # the lab repo has no webhook configured
    wait_until(lambda: len(runner.finished_runs()) == 2, what="seed applied after the first poll")
    work = lab_git.clone(tmp_path / "work")
    sha = commit_files(work, {"clusters/home/cluster.yaml": "rev: polled\n"}, "silent push")
    lab_git.push(work)
    run = wait_until(lambda: [r for r in runner.finished_runs() if r["commit_sha"] == sha], what="polled run")
    assert [(r["cluster"], r["trigger"]) for r in run] == [("home", "poll")]


def test_drift_reconciles_every_cluster_even_when_nothing_changed(lab_git, start_runner) -> None:
    runner = start_runner(Recorder(), drift_interval=0.2)
    wait_until(
        lambda: {r["cluster"] for r in runner.finished_runs(trigger="drift")} == {"home", "other"}, what="drift runs"
    )
    assert {r["mode"] for r in runner.finished_runs(trigger="drift")} == {"apply"}
