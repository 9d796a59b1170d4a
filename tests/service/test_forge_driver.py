"""The forge driver against the forge twin: statuses, upserted comments, pagination, and the error tree."""

from __future__ import annotations

import pytest
from servicekit import FORGE_TOKEN, REPO

from runner.core.errors import Permanent, Transient
from runner.core.secret import Secret
from runner.drivers.forge import GiteaForge, GitHubForge, make_forge, plan_marker
from runner.lab.serve import free_port

SHA = "a" * 40


@pytest.fixture(params=[GitHubForge, GiteaForge], ids=["github", "gitea"])
def forge(request, forge_twin):  # type: ignore[no-untyped-def]
    state, url = forge_twin
    state.add_pull(REPO, 5)
    state.add_commit(REPO, SHA)  # the repository holds the commit statuses are set on
    return request.param(url, Secret(FORGE_TOKEN)), state


def test_status_and_comment_round_trip(forge) -> None:  # type: ignore[no-untyped-def]
    client, state = forge
    client.set_status(REPO, SHA, "pending", "runner/home", "x" * 300, "http://runner/runs/1")
    [status] = state.statuses_for(REPO, SHA)
    assert (status.state, status.context, len(status.description)) == ("pending", "runner/home", 140)
    first = client.upsert_pr_comment(REPO, 5, plan_marker("home"), "plan v1")
    other = client.upsert_pr_comment(REPO, 5, plan_marker("other"), "plan for other")
    again = client.upsert_pr_comment(REPO, 5, plan_marker("home"), "plan v2")
    assert first == again != other
    bodies = {c.id: c.body for c in state.comments_on(REPO, 5)}
    assert bodies[first] == f"{plan_marker('home')}\nplan v2"


def test_github_comment_search_follows_pagination(forge_twin) -> None:  # type: ignore[no-untyped-def]
    state, url = forge_twin
    state.add_pull(REPO, 9)
    client = GitHubForge(url, Secret(FORGE_TOKEN))
    for i in range(120):  # our marker ends up on the second page
        client.upsert_pr_comment(REPO, 9, f"<!-- noise {i} -->", "chatter")
    ours = client.upsert_pr_comment(REPO, 9, plan_marker("home"), "v1")
    assert client.upsert_pr_comment(REPO, 9, plan_marker("home"), "v2") == ours
    assert len(state.comments_on(REPO, 9)) == 121


def test_bad_state_unknown_repo_and_bad_token_are_permanent(forge, forge_twin) -> None:  # type: ignore[no-untyped-def]
    client, _ = forge
    with pytest.raises(Permanent, match="422"):
        client.set_status(REPO, SHA, "done", "runner/home", "", None)  # type: ignore[arg-type]
    with pytest.raises(Permanent, match="404"):
        client.set_status("nobody/nothing", SHA, "success", "runner/home", "", None)
    with pytest.raises(Permanent, match="404"):
        client.upsert_pr_comment(REPO, 404, plan_marker("home"), "x")
    wrong = type(client)(forge_twin[1], Secret("not-a-token"))
    with pytest.raises(Permanent, match=r"401.*forge_token") as info:
        wrong.set_status(REPO, SHA, "success", "runner/home", "", None)
    assert "not-a-token" not in str(info.value)


def test_twin_requires_a_token(forge_twin) -> None:  # type: ignore[no-untyped-def]
    import httpx

    _, url = forge_twin
    gh = httpx.post(f"{url}/repos/{REPO}/statuses/{SHA}", json={"state": "success"})
    gt = httpx.post(f"{url}/api/v1/repos/{REPO}/statuses/{SHA}", json={"state": "success"})
    assert (gh.status_code, gh.json()["message"]) == (401, "Requires authentication")
    assert (gt.status_code, gt.json()["message"]) == (401, "token is required")


def test_unreachable_forge_is_transient() -> None:
    client = GitHubForge(f"http://127.0.0.1:{free_port()}", Secret("t"), timeout=2)
    with pytest.raises(Transient):
        client.set_status(REPO, SHA, "success", "runner/home", "", None)


def test_make_forge_needs_a_token() -> None:
    assert make_forge("none", "", None) is None
    with pytest.raises(Permanent, match="RUNNER_FORGE_TOKEN"):
        make_forge("github", "https://api.github.com", None)
