"""PRs only plan: statuses go pending -> success and one plan comment is edited in place on every push."""

from __future__ import annotations

import pygit2
import pytest
from servicekit import FORGE_TOKEN, REPO, Recorder, payload, push_body, wait_until

from runner.core.secret import Secret
from runner.drivers.forge import GiteaForge, GitHubForge, plan_marker
from runner.lab.gitserver import commit_files


def pr_body(flavor: str, action: str, sha: str, number: int = 2) -> dict:  # type: ignore[type-arg]
    body = payload(f"{flavor}_pull_request.json")
    body["action"], body["number"] = action, number
    body["pull_request"]["number"] = number
    body["pull_request"]["head"]["sha"] = sha
    body["repository"]["full_name"] = REPO
    return body


@pytest.mark.parametrize(("flavor", "sync_action"), [("github", "synchronize"), ("gitea", "synchronized")])
def test_opened_then_synchronize_updates_one_comment(lab_git, start_runner, forge_twin, tmp_path, flavor, sync_action):
    state, forge_url = forge_twin
    state.add_pull(REPO, 2)
    forge_cls = GitHubForge if flavor == "github" else GiteaForge
    recorder = Recorder()
    runner = start_runner(recorder, forge=forge_cls(forge_url, Secret(FORGE_TOKEN)))
    work = lab_git.clone(tmp_path / "work")
    first = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nworkers: 3\n"}, "third worker", "add-worker")
    lab_git.push(work, "add-worker")

    assert runner.hook(flavor, pr_body(flavor, "opened", first), event="pull_request").status_code == 202
    wait_until(lambda: [s.state for s in state.statuses_for(REPO, first)] == ["pending", "success"], what="statuses")
    [comment] = state.comments_on(REPO, 2)
    assert plan_marker("home") in comment.body and first[:12] in comment.body

    second = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nworkers: 4\n"}, "fourth", "add-worker")
    lab_git.push(work, "add-worker")
    assert runner.hook(flavor, pr_body(flavor, sync_action, second), event="pull_request").status_code == 202
    wait_until(lambda: [s.state for s in state.statuses_for(REPO, second)] == ["pending", "success"], what="sync")
    [updated] = state.comments_on(REPO, 2)
    assert updated.id == comment.id and updated.edits == 1 and second[:12] in updated.body

    runs = runner.finished_runs(pr=2)
    assert [(r["cluster"], r["mode"], r["trigger"]) for r in runs] == [("home", "plan", "pull_request")] * 2
    assert [c[2] for c in recorder.calls] == ["plan", "plan"]  # never an apply from a PR
    statuses = state.statuses_for(REPO, second)
    assert statuses[-1].context == "runner/home"
    assert statuses[-1].target_url == f"http://runner.test/runs/{runs[0]['id']}"


def test_pr_touching_no_cluster_plans_nothing(lab_git, start_runner, forge_twin, tmp_path) -> None:
    state, forge_url = forge_twin
    state.add_pull(REPO, 3)
    runner = start_runner(Recorder(), forge=GitHubForge(forge_url, Secret(FORGE_TOKEN)))
    work = lab_git.clone(tmp_path / "work")
    sha = commit_files(work, {"README.md": "docs only\n"}, "docs", "docs")
    lab_git.push(work, "docs")
    runner.hook("github", pr_body("github", "opened", sha, 3), event="pull_request")
    wait_until(lambda: not runner.service.queue.items(), what="expansion")
    assert runner.runs() == [] and state.statuses == [] and state.comments == {}


def test_closing_a_pr_drops_its_pending_plans_and_other_actions_are_ignored(lab_git, start_runner) -> None:
    runner = start_runner(Recorder(), settle_seconds=60)  # keep the plan pending
    head = str(pygit2.Repository(lab_git.url).references["refs/heads/main"].target)
    assert runner.hook("github", pr_body("github", "opened", head), event="pull_request").json()["status"] == "queued"
    assert runner.service.queue.depth() == 1
    reply = runner.hook("github", pr_body("github", "labeled", head), event="pull_request")
    assert reply.json()["status"] == "ignored"
    closed = pr_body("github", "closed", head)
    reply = runner.hook("github", closed, event="pull_request")
    assert reply.json()["status"] == "closed" and reply.json()["dropped"] == 1
    assert runner.service.queue.depth() == 0


def test_pr_against_another_branch_is_ignored(lab_git, start_runner) -> None:
    runner = start_runner(Recorder())
    body = pr_body("github", "opened", "a" * 40)
    body["pull_request"]["base"]["ref"] = "release"
    assert runner.hook("github", body, event="pull_request").json()["status"] == "ignored"


def test_push_to_a_feature_branch_never_applies(lab_git, start_runner, tmp_path) -> None:
    runner = start_runner(Recorder())
    work = lab_git.clone(tmp_path / "work")
    sha = commit_files(work, {"clusters/home/cluster.yaml": "x: 1\n"}, "wip", "feature")
    lab_git.push(work, "feature")
    assert runner.hook("github", push_body(sha, ref="refs/heads/feature")).json()["status"] == "ignored"
