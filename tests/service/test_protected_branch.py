"""Only what is on the protected branch is applied: a signed hook naming an unmerged commit is refused.

The check is the worker's, at execute time, against the protected branch's head as fetched then; every hook
kind reaches it (GitHub and Gitea pushes that claim `refs/heads/main`, the generic hook with a `commit`).
"""

from __future__ import annotations

from typing import Any

import pygit2
import pytest
from servicekit import Recorder, push_body, wait_until

from runner.engine.service.queue import RunRequest
from runner.lab.gitserver import LabGitServer, commit_files


def main_head(lab_git: LabGitServer) -> str:
    return str(pygit2.Repository(lab_git.url).references["refs/heads/main"].target)


def unmerged_commit(lab_git: LabGitServer, tmp_path: Any) -> str:
    """A commit that touches the cluster, pushed to a PR branch and never merged."""
    work = lab_git.clone(tmp_path / "work")
    sha = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nworkers: 9\n"}, "unmerged", "pr-branch")
    lab_git.push(work, "pr-branch")
    return sha


def hook_body(kind: str, sha: str) -> dict[str, Any]:
    if kind == "generic":
        return {"ref": "main", "commit": sha, "cluster": "home", "mode": "apply"}
    return push_body(sha, flavor=kind)


@pytest.mark.parametrize("kind", ["github", "gitea", "generic"])
def test_signed_hook_for_an_unmerged_commit_is_refused(lab_git, start_runner, tmp_path, kind) -> None:
    recorder = Recorder()
    runner = start_runner(recorder)
    sha = unmerged_commit(lab_git, tmp_path)
    reply = runner.hook(kind, hook_body(kind, sha))
    assert reply.status_code == 202 and reply.json()["status"] == "queued"
    wait_until(lambda: runner.finished_runs() and not runner.service.queue.items(), what="the refused runs")
    [run] = runner.finished_runs(cluster="home")
    head = main_head(lab_git)
    expected = (
        f"refused to apply {sha[:12]}: it is not on the protected branch 'main' (head {head[:12]});"
        " only merged commits are applied"
    )
    assert (run["cluster"], run["mode"], run["commit_sha"]) == ("home", "apply", sha)
    assert (run["result"], run["summary"]) == ("failure", expected)
    assert recorder.calls == []  # the run function never saw the commit (nor did any other cluster's run)
    assert {r["result"] for r in runner.finished_runs()} == {"failure"}
    detail = runner.client.get(f"/api/runs/{run['id']}").json()
    assert [(line["level"], line["line"]) for line in detail["logs"]] == [("error", expected)]


def test_a_merged_commit_is_applied(lab_git, start_runner, tmp_path) -> None:
    recorder = Recorder()
    runner = start_runner(recorder)
    sha = unmerged_commit(lab_git, tmp_path)
    work = pygit2.Repository(str(tmp_path / "work"))
    work.references["refs/heads/main"].set_target(pygit2.Oid(hex=sha))  # merge: fast-forward main
    lab_git.push(tmp_path / "work", "main")
    runner.hook("generic", hook_body("generic", sha))
    [run] = wait_until(lambda: runner.finished_runs(), what="the applied run")
    assert (run["result"], run["summary"]) == ("success", "apply home ok")
    assert [(c[0], c[1], c[2]) for c in recorder.calls] == [("home", sha, "apply")]


def test_the_worker_refuses_an_apply_of_another_ref_even_for_a_merged_commit(lab_git, start_runner) -> None:
    """The webhook never queues such an item; the worker refuses it anyway (a bug elsewhere, an edited DB)."""
    recorder = Recorder()
    runner = start_runner(recorder)
    sha = main_head(lab_git)  # on the protected branch, so only the ref check can stop it
    runner.service.queue.enqueue(RunRequest("home", sha, "refs/heads/feature", "manual", "apply", "lab/home"))
    [run] = wait_until(lambda: runner.finished_runs(), what="the refused run")
    expected = f"refused to apply {sha[:12]}: ref 'refs/heads/feature' is not the protected branch 'main'"
    assert (run["result"], run["summary"], run["ref"]) == ("failure", expected, "refs/heads/feature")
    assert recorder.calls == []


@pytest.mark.parametrize("kind", ["github", "generic"])
def test_without_the_protected_branch_a_hook_is_refused_saying_so(lab_git, start_runner, kind) -> None:
    """The runner protects `release`, which the repository does not have (yet): nothing is applied, and the
    run for the named commit says why instead of the event vanishing."""
    recorder = Recorder()
    runner = start_runner(recorder, branch="release")
    sha = main_head(lab_git)
    body = hook_body(kind, sha) | {"ref": "release" if kind == "generic" else "refs/heads/release"}
    assert runner.hook(kind, body).status_code == 202
    wait_until(lambda: runner.finished_runs(cluster="home") and not runner.service.queue.items(), what="the refusal")
    [run] = runner.finished_runs(cluster="home")
    expected = f"refused to apply {sha[:12]}: the protected branch 'release' was not found"
    assert (run["result"], run["summary"], run["commit_sha"]) == ("failure", expected, sha)
    assert recorder.calls == []
