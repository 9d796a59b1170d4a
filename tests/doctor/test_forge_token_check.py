"""`runner doctor`'s forge check against the forge twin: each kind of token is held to what it needs (a
GitHub App's bot login, installation and permissions; a classic token's scope; a Gitea token's scopes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.engine.commands.doctor import build_context, run_checks
from runner.engine.commands.doctor.forge import forge_rows, forge_token
from runner.engine.reconcile.target_settings import TargetSettings
from runner.lab.forge import ForgeState, create_forge_app
from runner.lab.forge.tokens import Installation
from runner.lab.serve import serve_in_thread
from tests.app_settings import settings_under

REPO = "home/cluster"
APP_TOKEN = "ghs_" + "K1l2" * 9
ROOT = Path(__file__).parents[2]


@pytest.fixture
def forge() -> Iterator[tuple[ForgeState, str]]:
    state = ForgeState()
    state.add_repo(REPO)
    state.add_repo("home/elsewhere")
    server = serve_in_thread(create_forge_app(state))
    yield state, server.url
    server.stop()


def _rows(tmp_path: Path, url: str, **forge: Any) -> list[str]:
    settings = settings_under(
        tmp_path, repo_url="file:///nowhere", webhook_secret="w" * 32, repo_full_name=REPO, forge_url=url, **forge
    )
    return [f"{r.result.value}: {r.detail}" for r in forge_rows(settings)]


def test_an_app_token_with_its_bot_login_installation_and_permissions_passes(forge, tmp_path) -> None:
    state, url = forge
    state.add_app_token(APP_TOKEN, Installation("gitops-runner", repositories={REPO}))
    (row,) = _rows(tmp_path, url, forge_kind="github", forge_token=APP_TOKEN, forge_bot_login="gitops-runner[bot]")
    assert row.startswith("ok: the App (gitops-runner[bot]) is installed on home/cluster")


@pytest.mark.parametrize(
    ("installation", "login", "expected"),
    [
        (Installation("gitops-runner", repositories={"home/elsewhere"}), "gitops-runner[bot]", "not installed on"),
        (Installation("gitops-runner", {"pull_requests": "write"}), "gitops-runner[bot]", "commit statuses"),
        (Installation("gitops-runner", {"statuses": "write"}), "gitops-runner[bot]", "pull request comments"),
        (Installation("gitops-runner"), "gitops-runner", "not an App's bot login"),
    ],
)
def test_an_app_token_names_what_it_lacks(forge, tmp_path, installation, login, expected) -> None:
    state, url = forge
    state.add_app_token(APP_TOKEN, installation)
    (row,) = _rows(tmp_path, url, forge_kind="github", forge_token=APP_TOKEN, forge_bot_login=login)
    assert row.startswith("fail: ") and expected in row, row


def test_an_app_token_without_a_bot_login_fails_the_check_with_the_settings_message(
    forge, tmp_path, monkeypatch
) -> None:
    _, url = forge
    for name, value in {
        "REPO_URL": "file:///nowhere",
        "WEBHOOK_SECRET": "w" * 32,
        "FORGE_KIND": "github",
        "FORGE_URL": url,
        "FORGE_TOKEN": APP_TOKEN,
        "DB_PATH": str(tmp_path / "r.db"),
    }.items():
        monkeypatch.setenv(f"RUNNER_{name}", value)
    ctx = build_context(ROOT, "home", TargetSettings())
    (row,) = run_checks(ctx, [forge_token])
    assert row.result.value == "fail"
    assert "set forge_bot_login (RUNNER_FORGE_BOT_LOGIN) to the App's bot login, '<app-slug>[bot]'" in row.detail


def test_a_classic_token_needs_the_repo_scope_and_its_own_login(forge, tmp_path) -> None:
    state, url = forge
    state.add_token("ghp_" + "M3n4" * 9, "octo", oauth_scopes="repo:status, read:org")
    (row,) = _rows(tmp_path, url, forge_kind="github", forge_token="ghp_" + "M3n4" * 9)
    assert row == (
        "fail: the classic token's scopes are read:org, repo:status; statuses and PR comments on a private "
        "repository need repo"
    )
    state.oauth_scopes["ghp_" + "M3n4" * 9] = "repo"
    assert _rows(tmp_path, url, forge_kind="github", forge_token="ghp_" + "M3n4" * 9)[0].startswith("ok: octo")
    (mismatch,) = _rows(tmp_path, url, forge_kind="github", forge_token="ghp_" + "M3n4" * 9, forge_bot_login="x")
    assert mismatch == "fail: forge_bot_login is 'x' but the token is 'octo'"


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        ({"write:repository", "write:issue"}, "GET /user (who the token is, to find its plan comment): token does"),
        ({"read:user", "write:repository", "read:issue"}, "may not post PR comments (write:issue): token does"),
        ({"read:user", "read:repository", "write:issue"}, "may not post commit statuses (write:repository)"),
    ],
)
def test_a_gitea_token_names_the_scope_it_lacks(forge, tmp_path, scopes, expected) -> None:
    state, url = forge
    state.add_token("gitea-scoped", "runner-bot", gitea_scopes=frozenset(scopes))
    (row,) = _rows(tmp_path, url, forge_kind="gitea", forge_token="gitea-scoped")
    assert row.startswith("fail: ") and expected in row, row
    state.gitea_scopes["gitea-scoped"] = frozenset({"read:user", "write:repository", "write:issue"})
    assert _rows(tmp_path, url, forge_kind="gitea", forge_token="gitea-scoped") == [
        "ok: runner-bot may post statuses and comments on home/cluster"
    ]


def test_a_gitea_token_without_read_user_passes_when_the_bot_login_is_set(forge, tmp_path) -> None:
    state, url = forge
    state.add_token("gitea-scoped", "runner-bot", gitea_scopes=frozenset({"write:repository", "write:issue"}))
    rows = _rows(tmp_path, url, forge_kind="gitea", forge_token="gitea-scoped", forge_bot_login="runner-bot")
    assert rows == ["ok: runner-bot may post statuses and comments on home/cluster"]
