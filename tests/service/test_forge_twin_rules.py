"""The forge twin refuses what GitHub and Gitea refuse: long descriptions and comments, edits of
someone else's comment without write access, GitHub's rate limits; and it can go down (a 503 outage)."""

from __future__ import annotations

import time

import httpx
import pytest
from servicekit import FORGE_TOKEN, REPO

SHA = "b" * 40
GH = {"Authorization": f"Bearer {FORGE_TOKEN}"}
GT = {"Authorization": f"token {FORGE_TOKEN}"}


@pytest.fixture
def twin(forge_twin):  # type: ignore[no-untyped-def]
    state, url = forge_twin
    state.add_pull(REPO, 4)
    state.add_commit(REPO, SHA)
    state.add_token("reader-token", "reader", "read")
    return state, url


def test_github_status_description_is_at_most_140_characters(twin) -> None:  # type: ignore[no-untyped-def]
    _, url = twin
    ok = httpx.post(
        f"{url}/repos/{REPO}/statuses/{SHA}", headers=GH, json={"state": "success", "description": "é" * 140}
    )
    assert ok.status_code == 201
    long = httpx.post(
        f"{url}/repos/{REPO}/statuses/{SHA}", headers=GH, json={"state": "success", "description": "x" * 141}
    )
    assert long.status_code == 422
    assert long.json()["errors"] == [
        {
            "resource": "Status",
            "code": "custom",
            "field": "description",
            "message": "description is too long (maximum is 140 characters)",
        }
    ]


def test_github_comment_body_is_at_most_65536_characters_gitea_has_no_limit(twin) -> None:  # type: ignore[no-untyped-def]
    _, url = twin
    gh = httpx.post(f"{url}/repos/{REPO}/issues/4/comments", headers=GH, json={"body": "x" * 65537})
    assert gh.status_code == 422
    assert gh.json()["errors"][0]["message"] == "body is too long (maximum is 65536 characters)"
    assert (
        httpx.post(f"{url}/repos/{REPO}/issues/4/comments", headers=GH, json={"body": "x" * 65536}).status_code == 201
    )
    gt = httpx.post(f"{url}/api/v1/repos/{REPO}/issues/4/comments", headers=GT, json={"body": "x" * 70000})
    assert gt.status_code == 201


@pytest.mark.parametrize("flavor", ["github", "gitea"])
def test_only_the_author_or_a_writer_may_edit_a_comment(twin, flavor: str) -> None:  # type: ignore[no-untyped-def]
    state, url = twin
    prefix, scheme = ("", "Bearer") if flavor == "github" else ("/api/v1", "token")
    bot = {"Authorization": f"{scheme} {FORGE_TOKEN}"}
    reader = {"Authorization": f"{scheme} reader-token"}
    base = f"{url}{prefix}/repos/{REPO}/issues"
    bots = httpx.post(f"{base}/4/comments", headers=bot, json={"body": "bot's"}).json()["id"]
    readers = httpx.post(f"{base}/4/comments", headers=reader, json={"body": "reader's"}).json()["id"]
    refused = httpx.patch(f"{base}/comments/{bots}", headers=reader, json={"body": "defaced"})
    assert refused.status_code == 403
    if flavor == "github":
        assert refused.json()["message"] == "Resource not accessible by personal access token"
    assert httpx.patch(f"{base}/comments/{readers}", headers=reader, json={"body": "mine"}).status_code == 200
    assert httpx.patch(f"{base}/comments/{readers}", headers=bot, json={"body": "moderated"}).status_code == 200
    assert state.comments[bots].body == "bot's"


@pytest.mark.parametrize("flavor", ["github", "gitea"])
def test_user_endpoint_names_the_token_owner(twin, flavor: str) -> None:  # type: ignore[no-untyped-def]
    _, url = twin
    path, headers = ("/user", GH) if flavor == "github" else ("/api/v1/user", GT)
    reply = httpx.get(f"{url}{path}", headers=headers)
    assert reply.status_code == 200 and reply.json()["login"] == "runner-bot"


def test_github_primary_rate_limit_is_403_with_a_reset(twin) -> None:  # type: ignore[no-untyped-def]
    state, url = twin
    state.limits.configure(limit=2, window=30)
    for _ in range(2):
        assert httpx.get(f"{url}/user", headers=GH).status_code == 200
    refused = httpx.get(f"{url}/user", headers=GH)
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("API rate limit exceeded for user ID")
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert 25 <= int(refused.headers["x-ratelimit-reset"]) - time.time() <= 31
    assert httpx.get(f"{url}/api/v1/user", headers=GT).status_code == 200  # Gitea has no API rate limit


def test_github_secondary_rate_limit_is_403_with_retry_after(twin) -> None:  # type: ignore[no-untyped-def]
    state, url = twin
    state.limits.configure(secondary=60)
    refused = httpx.get(f"{url}/user", headers=GH)
    assert refused.status_code == 403 and "secondary rate limit" in refused.json()["message"]
    assert refused.headers["retry-after"] == "60"


def test_an_outage_is_503_for_both_forges(twin) -> None:  # type: ignore[no-untyped-def]
    state, url = twin
    state.limits.outage(30)
    assert httpx.get(f"{url}/user", headers=GH).status_code == 503
    assert httpx.get(f"{url}/api/v1/user", headers=GT).status_code == 503
    state.limits.outage(0)
    assert httpx.get(f"{url}/user", headers=GH).status_code == 200
