"""The GitHub twin refuses what api.github.com refuses (API versions, Accept, body types, unknown commits) and
answers what GitHub's REST description documents (reply fields, rate-limit headers, pagination links)."""

from __future__ import annotations

import httpx
import pytest
from servicekit import FORGE_TOKEN, REPO

SHA = "c" * 40
GH = {"Authorization": f"Bearer {FORGE_TOKEN}", "Accept": "application/vnd.github+json"}
# Required fields of `simple-user`, `status` and `issue-comment` in github/rest-api-description
# (descriptions/api.github.com/api.github.com.2022-11-28.json, components/schemas).
SIMPLE_USER = {
    "login", "id", "node_id", "avatar_url", "gravatar_id", "url", "html_url", "followers_url", "following_url",
    "gists_url", "starred_url", "subscriptions_url", "organizations_url", "repos_url", "events_url",
    "received_events_url", "type", "site_admin",
}  # fmt: skip
STATUS = {
    "url", "avatar_url", "id", "node_id", "state", "description", "target_url", "context", "created_at",
    "updated_at", "creator",
}  # fmt: skip
ISSUE_COMMENT = {
    "id",
    "node_id",
    "html_url",
    "issue_url",
    "user",
    "url",
    "created_at",
    "updated_at",
    "author_association",
}


@pytest.fixture
def github(forge_twin):  # type: ignore[no-untyped-def]
    state, url = forge_twin
    state.add_pull(REPO, 4)
    state.add_commit(REPO, SHA)
    with httpx.Client(base_url=url, headers=GH) as client:
        yield client


def test_an_api_version_github_does_not_serve_is_400(github: httpx.Client) -> None:
    for version in ("2022-11-28", "2026-03-10"):
        assert github.get("/user", headers={"X-GitHub-Api-Version": version}).status_code == 200
    refused = github.get("/user", headers={"X-GitHub-Api-Version": "v3"})
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        'The version you specified in the "X-GitHub-API-Version" request header, "v3", is not a supported version.'
        ' The following versions are currently supported: "2026-03-10" (most recent), "2022-11-28".'
    )


def test_an_accept_header_github_cannot_answer_is_415(github: httpx.Client) -> None:
    for accept in ("application/json", "application/vnd.github.raw+json", "*/*"):
        assert github.get("/user", headers={"Accept": accept}).status_code == 200
    refused = github.get("/user", headers={"Accept": "text/html"})
    assert refused.status_code == 415
    assert refused.json()["message"] == "Unsupported 'Accept' header: [\"text/html\"]. Must accept 'application/json'."


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"description": "x"}, '"state" wasn\'t supplied.'),
        ({"state": 1}, "For 'properties/state', 1 is not a string."),
        ({"state": "success", "target_url": 5}, "For 'properties/target_url', 5 is not a string or null."),
        ({"state": "success", "description": False}, "For 'properties/description', false is not a string or null."),
        ({"state": "success", "context": None}, "For 'properties/context', nil is not a string."),
    ],
)
def test_status_fields_of_the_wrong_type_are_422(github: httpx.Client, body: dict[str, object], detail: str) -> None:
    refused = github.post(f"/repos/{REPO}/statuses/{SHA}", json=body)
    assert (refused.status_code, refused.json()["message"]) == (422, f"Invalid request.\n\n{detail}")


def test_null_target_url_and_description_are_allowed(github: httpx.Client) -> None:
    body = {"state": "pending", "target_url": None, "description": None, "context": "runner"}
    assert github.post(f"/repos/{REPO}/statuses/{SHA}", json=body).status_code == 201


def test_a_status_for_a_commit_the_repository_lacks_is_422(github: httpx.Client) -> None:
    unknown = "d" * 40
    refused = github.post(f"/repos/{REPO}/statuses/{unknown}", json={"state": "success"})
    assert (refused.status_code, refused.json()["message"]) == (422, f"No commit found for SHA: {unknown}")


def test_every_reply_carries_the_rate_limit_headers(github: httpx.Client) -> None:
    for response in (
        github.get("/user"),
        github.post(f"/repos/{REPO}/statuses/{SHA}", json={"state": "success"}),
        github.post(f"/repos/{REPO}/statuses/{SHA}", json={"state": "nope"}),
    ):
        headers = response.headers
        assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used"} <= set(headers)
        assert headers["x-ratelimit-resource"] == "core"
    assert int(headers["x-ratelimit-used"]) == 3 and int(headers["x-ratelimit-remaining"]) == 4997


def test_replies_carry_the_documented_fields(github: httpx.Client) -> None:
    status = github.post(f"/repos/{REPO}/statuses/{SHA}", json={"state": "success"}).json()
    assert set(status) >= STATUS and set(status["creator"]) >= SIMPLE_USER
    comment = github.post(f"/repos/{REPO}/issues/4/comments", json={"body": "plan"}).json()
    assert set(comment) >= ISSUE_COMMENT and set(comment["user"]) >= SIMPLE_USER
    assert set(github.get("/user").json()) >= SIMPLE_USER


def test_pagination_links_use_githubs_repositories_form_and_lead_to_the_next_page(github: httpx.Client) -> None:
    for n in range(5):
        assert github.post(f"/repos/{REPO}/issues/4/comments", json={"body": f"c{n}"}).status_code == 201
    first = github.get(f"/repos/{REPO}/issues/4/comments", params={"per_page": 2})
    repo_id = github.get(f"/repos/{REPO}").json()["id"]
    assert f'/repositories/{repo_id}/issues/4/comments?per_page=2&page=2>; rel="next"' in first.headers["link"]
    second = github.get(first.links["next"]["url"])
    assert [c["body"] for c in second.json()] == ["c2", "c3"]
    assert {"next", "last", "prev", "first"} == set(second.links)
