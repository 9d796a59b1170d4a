"""The forge twin tells token kinds apart as the forges do: a GitHub App installation token is refused
`GET /user` and held to its App's permissions and repositories, a classic token's replies name its scopes,
and a scoped Gitea token may only do what its scopes allow."""

from __future__ import annotations

import httpx
import pytest
from servicekit import REPO

from runner.lab.forge.tokens import Installation

SHA = "c" * 40
APP_TOKEN = "ghs_" + "E5f6" * 9
NO_STATUSES = "ghs_" + "G7h8" * 9


@pytest.fixture
def twin(forge_twin):  # type: ignore[no-untyped-def]
    state, url = forge_twin
    state.add_pull(REPO, 5)
    state.add_repo("lab/other")
    for repo in (REPO, "lab/other"):  # a status names a commit the repository holds (else 422)
        state.add_commit(repo, SHA)
    state.add_app_token(APP_TOKEN, Installation("gitops-runner", repositories={REPO}))
    state.add_app_token(NO_STATUSES, Installation("no-statuses", {"pull_requests": "write", "metadata": "read"}))
    return state, url


def _gh(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}


def test_an_installation_token_is_refused_get_user_with_githubs_reply(twin) -> None:  # type: ignore[no-untyped-def]
    _, url = twin
    reply = httpx.get(f"{url}/user", headers=_gh(APP_TOKEN))
    assert reply.status_code == 403
    assert reply.json() == {
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user",
        "status": "403",
    }


def test_an_installation_token_posts_statuses_and_comments_as_its_bot(twin) -> None:  # type: ignore[no-untyped-def]
    _, url = twin
    status = httpx.post(f"{url}/repos/{REPO}/statuses/{SHA}", headers=_gh(APP_TOKEN), json={"state": "pending"})
    assert status.status_code == 201 and status.json()["creator"]["login"] == "gitops-runner[bot]"
    assert status.json()["creator"]["type"] == "Bot"
    comment = httpx.post(f"{url}/repos/{REPO}/issues/5/comments", headers=_gh(APP_TOKEN), json={"body": "plan"})
    assert comment.status_code == 201 and comment.json()["user"]["login"] == "gitops-runner[bot]"
    listed = httpx.get(f"{url}/installation/repositories", headers=_gh(APP_TOKEN)).json()
    assert [r["full_name"] for r in listed["repositories"]] == [REPO]


def test_an_installation_token_reaches_only_its_repositories_with_its_apps_permissions(twin) -> None:  # type: ignore[no-untyped-def]
    _, url = twin
    elsewhere = httpx.post(f"{url}/repos/lab/other/statuses/{SHA}", headers=_gh(APP_TOKEN), json={"state": "pending"})
    assert elsewhere.status_code == 404
    refused = httpx.post(f"{url}/repos/{REPO}/statuses/{SHA}", headers=_gh(NO_STATUSES), json={"state": "pending"})
    assert refused.status_code == 403
    assert refused.json()["message"] == "Resource not accessible by integration"
    assert refused.json()["documentation_url"].endswith("#create-a-commit-status")
    read = httpx.get(f"{url}/repos/{REPO}/commits/main/statuses", headers=_gh(NO_STATUSES))
    assert read.status_code == 403
    # Pull requests: write is enough for issue comments on a pull request
    ok = httpx.post(f"{url}/repos/{REPO}/issues/5/comments", headers=_gh(NO_STATUSES), json={"body": "plan"})
    assert ok.status_code == 201


def test_a_classic_tokens_replies_name_its_scopes_and_others_do_not(twin) -> None:  # type: ignore[no-untyped-def]
    state, url = twin
    state.add_token("ghp_" + "I9j0" * 9, "octo", oauth_scopes="repo, read:org")
    classic = httpx.get(f"{url}/user", headers=_gh("ghp_" + "I9j0" * 9))
    assert classic.headers["x-oauth-scopes"] == "repo, read:org"
    assert "x-oauth-scopes" not in httpx.get(f"{url}/repos/{REPO}", headers=_gh(APP_TOKEN)).headers


@pytest.mark.parametrize(
    ("scopes", "method", "path", "missing"),
    [
        (frozenset({"write:repository", "write:issue"}), "GET", "/user", "read:user"),
        (frozenset({"read:user", "write:repository"}), "POST", f"/repos/{REPO}/issues/5/comments", "write:issue"),
        (
            frozenset({"read:user", "read:repository", "write:issue"}),
            "POST",
            f"/repos/{REPO}/statuses/{SHA}",
            "write:repository",
        ),
        (
            frozenset({"read:user", "read:repository", "read:issue"}),
            "POST",
            f"/repos/{REPO}/markup",
            "write:repository",
        ),
    ],
)
def test_a_scoped_gitea_token_is_refused_outside_its_scopes(twin, scopes, method, path, missing) -> None:  # type: ignore[no-untyped-def]
    state, url = twin
    state.add_token("gitea-scoped", "runner-bot", gitea_scopes=scopes)
    body = {"state": "pending", "body": "plan", "Text": "", "Mode": "gfm"}
    reply = httpx.request(method, f"{url}/api/v1{path}", headers={"Authorization": "token gitea-scoped"}, json=body)
    assert reply.status_code == 403
    assert reply.json()["message"] == f"token does not have at least one of required scope(s): [{missing}]"


def test_a_gitea_write_scope_includes_read_and_all_includes_everything(twin) -> None:  # type: ignore[no-untyped-def]
    state, url = twin
    state.add_token(
        "gitea-writer", "runner-bot", gitea_scopes=frozenset({"write:user", "write:repository", "write:issue"})
    )
    state.add_token("gitea-all", "runner-bot", gitea_scopes=frozenset({"all"}))
    for token in ("gitea-writer", "gitea-all"):
        headers = {"Authorization": f"token {token}"}
        assert httpx.get(f"{url}/api/v1/user", headers=headers).status_code == 200
        assert httpx.get(f"{url}/api/v1/repos/{REPO}/issues/comments", headers=headers).status_code == 200
        assert httpx.post(f"{url}/api/v1/repos/{REPO}/markup", headers=headers, json={}).status_code == 200
