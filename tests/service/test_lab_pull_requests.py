"""Change control in the lab: pushing a branch to the lab's git server opens (then updates) a pull request
on the forge twin, which sends the pull_request webhook; the runner plans it; merging it applies it."""

from __future__ import annotations

import httpx
import pygit2
from servicekit import FORGE_TOKEN, REPO, SECRET, Recorder, wait_until

from runner.core.secret import Secret
from runner.drivers.forge import GiteaForge
from runner.lab.forge.pulls import WebhookTarget
from runner.lab.gitserver import commit_files


def wire(lab_git, forge_twin, runner):  # type: ignore[no-untyped-def]
    state, forge_url = forge_twin
    hook_url = f"{runner.url}/hooks/gitea"
    lab_git.configure_webhook(hook_url, SECRET, "gitea", forge_url=forge_url)
    state.pulls.webhook = WebhookTarget(hook_url, SECRET, "gitea")
    state.pulls.merge = lambda pull: lab_git.merge(pull.sha, pull.base, f"Merge pull request #{pull.number}")
    return state, forge_url


def statuses(state, sha: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.state for s in state.statuses_for(REPO, sha)]


def test_a_branch_push_opens_a_planned_pr_and_merging_it_applies(lab_git, start_runner, forge_twin, tmp_path) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    runner = start_runner(recorder, forge=GiteaForge(forge_twin[1], Secret(FORGE_TOKEN)))
    state, forge_url = wire(lab_git, forge_twin, runner)
    work = lab_git.clone(tmp_path / "work")

    first = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nworkers: 3\n"}, "third worker", "more")
    lab_git.push(work, "more")
    [pull] = state.pulls.by_number.values()
    assert (pull.number, pull.head, pull.base, pull.sha) == (1, "more", "main", first)
    wait_until(lambda: statuses(state, first) == ["pending", "success"], what="the PR's statuses")
    [comment] = state.comments_on(REPO, 1)
    assert comment.user == "runner-bot" and first[:12] in comment.body

    second = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nworkers: 4\n"}, "fourth", "more")
    lab_git.push(work, "more")
    assert state.pulls.deliveries == ["pull_request opened #1: 202", "pull_request synchronized #1: 202"]
    wait_until(lambda: statuses(state, second) == ["pending", "success"], what="the updated PR's statuses")
    [edited] = state.comments_on(REPO, 1)
    assert edited.id == comment.id and edited.edits == 1 and second[:12] in edited.body

    page = httpx.get(f"{forge_url}/{REPO}/pulls/1")
    assert page.status_code == 200
    assert second[:12] in page.text and "runner/home" in page.text and "success" in page.text
    assert f'href="/{REPO}/pulls/1">#1</a>' in httpx.get(f"{forge_url}/{REPO}/pulls").text

    merged = httpx.post(f"{forge_url}/_lab/pulls/{REPO}/1/merge", timeout=60).json()
    assert merged["sha"] == second  # main had not moved: a fast-forward
    assert str(pygit2.Repository(lab_git.url).references["refs/heads/main"].target) == second
    wait_until(lambda: ("home", second, "apply") in [c[:3] for c in recorder.calls], what="the merged commit applied")
    assert [c[2] for c in recorder.calls if c[1] == first] == ["plan"]  # a PR only ever planned
    assert state.pulls.deliveries[-1] == "pull_request closed #1: 202"
    assert httpx.post(f"{forge_url}/_lab/pulls/{REPO}/1/merge").status_code == 404  # merged already


def test_merging_after_main_moved_makes_a_merge_commit(lab_git, start_runner, forge_twin, tmp_path) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    runner = start_runner(recorder, forge=GiteaForge(forge_twin[1], Secret(FORGE_TOKEN)))
    state, forge_url = wire(lab_git, forge_twin, runner)
    work = lab_git.clone(tmp_path / "work")
    branch = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nworkers: 5\n"}, "five", "five")
    lab_git.push(work, "five")
    wait_until(lambda: statuses(state, branch) == ["pending", "success"], what="the PR plan")
    main = commit_files(work, {"README.md": "main moved on\n"}, "docs", "main")
    lab_git.push(work, "main")
    merged = httpx.post(f"{forge_url}/_lab/pulls/{REPO}/1/merge", timeout=60).json()
    commit = pygit2.Repository(lab_git.url)[pygit2.Oid(hex=merged["sha"])]
    assert sorted(str(p) for p in commit.parent_ids) == sorted([main, branch])
    wait_until(lambda: ("home", merged["sha"], "apply") in [c[:3] for c in recorder.calls], what="the merge applied")
