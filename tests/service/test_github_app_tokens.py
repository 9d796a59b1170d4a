"""The forge flow with a GitHub App installation token: GitHub refuses `GET /user` to it, so the runner must
know its bot login another way, and still post the PR's statuses and its one plan comment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from servicekit import REPO, Recorder, wait_until
from test_pull_request_plans import pr_body

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.drivers.forge import GitHubForge, plan_marker
from runner.lab.forge.tokens import Installation
from runner.lab.gitserver import commit_files
from tests.app_settings import settings_under

APP_TOKEN = "ghs_" + "A1b2" * 9  # the shape of an installation token (it expires after an hour)
APP = Installation("gitops-runner")


def test_a_pr_planned_with_an_app_installation_token_gets_its_statuses_and_one_comment(
    lab_git, start_runner, forge_twin, tmp_path
) -> None:
    state, forge_url = forge_twin
    state.add_app_token(APP_TOKEN, APP)
    state.add_pull(REPO, 2)
    # the service builds its forge from its settings, as `runner serve` does
    app = {"forge_kind": "github", "forge_url": forge_url, "forge_token": APP_TOKEN, "forge_bot_login": APP.login}
    runner = start_runner(Recorder(), **app)
    work = lab_git.clone(tmp_path / "work")
    first = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nworkers: 3\n"}, "third worker", "add-worker")
    lab_git.push(work, "add-worker")
    assert runner.hook("github", pr_body("github", "opened", first), event="pull_request").status_code == 202
    wait_until(lambda: [s.state for s in state.statuses_for(REPO, first)] == ["pending", "success"], what="statuses")
    wait_until(lambda: not runner.service.queue.items(), what="the outbox")
    comments = state.comments_on(REPO, 2)
    assert [(c.user, plan_marker("home") in c.body) for c in comments] == [("gitops-runner[bot]", True)]


def test_an_installation_token_without_a_bot_login_is_refused_at_startup_and_by_the_driver(
    tmp_path, forge_twin
) -> None:
    state, forge_url = forge_twin
    state.add_app_token(APP_TOKEN, APP)
    with pytest.raises(ValidationError, match=r"forge_bot_login .*'<app-slug>\[bot\]'"):
        settings_under(
            tmp_path, repo_url="file:///x", webhook_secret="s" * 32, forge_kind="github", forge_token=APP_TOKEN
        )
    forge = GitHubForge(forge_url, Secret(APP_TOKEN))
    with pytest.raises(Permanent, match="refuses GET /user"):
        forge.identity()
    forge.close()


def test_a_personal_token_still_asks_the_forge_who_it_is(forge_twin) -> None:
    state, forge_url = forge_twin
    state.add_token("ghp_" + "C3d4" * 9, "octo-operator")
    forge = GitHubForge(forge_url, Secret("ghp_" + "C3d4" * 9))
    assert forge.identity() == "octo-operator"
    forge.close()
