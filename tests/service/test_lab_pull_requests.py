"""Change control in the lab: pushing a branch to the lab's git server opens (then updates) a pull request
on the forge twin, which sends the pull_request webhook; the runner plans it; merging it applies it."""

from __future__ import annotations

import json

import httpx
import pygit2
import pytest
from servicekit import FORGE_TOKEN, REPO, SECRET, Recorder, wait_until
from typer.testing import CliRunner

from runner.cli.main import app
from runner.core.secret import Secret
from runner.drivers.forge import GiteaForge
from runner.lab.forge.pulls import WebhookTarget
from runner.lab.gitserver import commit_files


@pytest.fixture
def lab_pulls(lab_git, start_runner, forge_twin):  # type: ignore[no-untyped-def]
    """The runner (its runs recorded) reporting to the forge twin, which opens a pull request for each branch
    pushed to the lab's git server, sends its webhook, and merges into that repo: (recorder, forge, forge URL)."""
    recorder = Recorder()
    state, forge_url = forge_twin
    runner = start_runner(recorder, forge=GiteaForge(forge_url, Secret(FORGE_TOKEN)))
    hook_url = f"{runner.url}/hooks/gitea"
    lab_git.configure_webhook(hook_url, SECRET, "gitea", forge_url=forge_url)
    state.pulls.webhook = WebhookTarget(hook_url, SECRET, "gitea")
    state.pulls.merge = lambda pull: lab_git.merge(pull.sha, pull.base, f"Merge pull request #{pull.number}")
    return recorder, state, forge_url


def statuses(state, sha: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.state for s in state.statuses_for(REPO, sha)]


def test_a_branch_push_opens_a_planned_pr_and_merging_it_applies(lab_git, lab_pulls, tmp_path) -> None:  # type: ignore[no-untyped-def]
    recorder, state, forge_url = lab_pulls
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

    # `runner lab merge 1 --workdir <lab>` against the running lab (it finds the forge in <lab>/lab.json).
    (tmp_path / "lab.json").write_text(json.dumps({"forge": forge_url, "repo": REPO}))
    done = CliRunner().invoke(app, ["lab", "merge", "1", "--workdir", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert f"merged PR #1 into main as {second[:12]}" in done.output  # main had not moved: a fast-forward
    assert str(pygit2.Repository(lab_git.url).references["refs/heads/main"].target) == second
    wait_until(lambda: ("home", second, "apply") in [c[:3] for c in recorder.calls], what="the merged commit applied")
    assert [c[2] for c in recorder.calls if c[1] == first] == ["plan"]  # a PR only ever planned
    assert state.pulls.deliveries[-1] == "pull_request closed #1: 202"
    assert httpx.post(f"{forge_url}/_lab/pulls/{REPO}/1/merge").status_code == 404  # merged already
    again = CliRunner().invoke(app, ["lab", "merge", "1", "--workdir", str(tmp_path)])
    assert again.exit_code == 1 and "no open pull request #1" in again.output


def test_merging_after_main_moved_makes_a_merge_commit(lab_git, lab_pulls, tmp_path) -> None:  # type: ignore[no-untyped-def]
    recorder, state, forge_url = lab_pulls
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


def test_the_lab_terminal_shows_each_pr_its_plan_comment_and_statuses() -> None:
    from runner.cli.lab.pulls import PullWatcher
    from runner.lab.forge import ForgeState

    state = ForgeState()
    repo = state.add_repo(REPO)
    watcher = PullWatcher(state, "http://forge")
    assert watcher.changes() == []
    pull, action = state.pulls.pushed(REPO, "refs/heads/more", "a" * 40, "main") or (None, "")
    assert action == "opened" and pull is not None
    comment = state.add_comment(
        repo, pull.number, "<!-- runner:plan:home -->\n### Plan for home\n- vm 303", "runner-bot"
    )
    state.add_status(
        repo, "a" * 40, {"state": "success", "context": "runner/home", "description": "plan ok"}, "bot", ""
    )
    assert watcher.changes() == [
        f"PR #1 (more → main) opened: http://forge/{REPO}/pulls/1",
        "PR #1: runner-bot wrote the plan comment:",
        "  │ ### Plan for home",
        "  │ - vm 303",
        "PR #1: status runner/home success: plan ok",
    ]
    state.edit_comment(comment, "<!-- runner:plan:home -->\n### Plan for home\n- vm 303, 304")
    state.pulls.pushed(REPO, "refs/heads/more", "b" * 40, "main")
    assert watcher.changes()[:2] == [
        f"PR #1 (more → main) updated to {'b' * 12}: http://forge/{REPO}/pulls/1",
        "PR #1: runner-bot edited the plan comment:",
    ]
