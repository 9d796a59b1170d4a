"""What the runner reports to the forge is what the forge accepts, is never someone else's comment, and
arrives even when the forge is rate limiting or down when the run ends (a durable outbox)."""

from __future__ import annotations

import pygit2
import pytest
from servicekit import FORGE_TOKEN, REPO, Recorder, push_body, wait_until

from runner.core.secret import Secret
from runner.drivers.forge import GiteaForge, GitHubForge, plan_marker

FORGES = {"github": GitHubForge, "gitea": GiteaForge}


def test_a_plan_longer_than_githubs_comment_limit_is_shortened_not_lost(forge_twin) -> None:  # type: ignore[no-untyped-def]
    state, url = forge_twin
    state.add_pull(REPO, 4)
    client = GitHubForge(url, Secret(FORGE_TOKEN))
    client.upsert_pr_comment(REPO, 4, plan_marker("home"), "### Plan\n" + "- step\n" * 20000)
    [comment] = state.comments_on(REPO, 4)
    assert len(comment.body) <= 65536
    assert comment.body.startswith(plan_marker("home")) and "truncated" in comment.body


@pytest.mark.parametrize("flavor", ["github", "gitea"])
def test_another_users_comment_carrying_the_marker_is_never_edited(forge_twin, flavor: str) -> None:  # type: ignore[no-untyped-def]
    state, url = forge_twin
    state.add_pull(REPO, 4)
    state.add_token("alice-token", "alice", "write")  # a maintainer quoting the runner's comment, marker and all
    alice = FORGES[flavor](url, Secret("alice-token"))
    quoted = f"> {plan_marker('home')}\n> plan v0\nlooks fine to me"
    alices = alice.upsert_pr_comment(REPO, 4, "<!-- alice -->", quoted)
    runner = FORGES[flavor](url, Secret(FORGE_TOKEN))
    ours = runner.upsert_pr_comment(REPO, 4, plan_marker("home"), "plan v1")
    assert runner.upsert_pr_comment(REPO, 4, plan_marker("home"), "plan v2") == ours != alices
    assert state.comments[alices].body == f"<!-- alice -->\n{quoted}" and state.comments[alices].edits == 0
    assert state.comments[ours].user == "runner-bot" and state.comments[ours].body.endswith("plan v2")


def head(lab_git) -> str:  # type: ignore[no-untyped-def]
    return str(pygit2.Repository(lab_git.url).references["refs/heads/main"].target)


def final_states(state, commit: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    latest: dict[str, str] = {}
    for status in state.statuses_for(REPO, commit):
        latest[status.context] = status.state
    return latest


def test_a_rate_limited_final_status_is_delivered_after_the_reset(lab_git, start_runner, forge_twin) -> None:  # type: ignore[no-untyped-def]
    state, url = forge_twin
    state.limits.configure(limit=1, window=3)  # one request per 3 s: most of the run's statuses meet the limit
    runner = start_runner(Recorder(), forge=GitHubForge(url, Secret(FORGE_TOKEN)))
    commit = head(lab_git)
    assert runner.hook("github", push_body(commit)).status_code == 202
    wait_until(lambda: len(runner.finished_runs()) == 2, what="runs")
    expected = {"runner/home": "success", "runner/other": "success"}
    wait_until(lambda: final_states(state, commit) == expected, 30, "final statuses after the rate limit reset")


def test_a_final_status_survives_a_forge_outage_and_a_restart(lab_git, start_runner, forge_twin) -> None:  # type: ignore[no-untyped-def]
    state, url = forge_twin
    state.limits.outage(3600)
    first = start_runner(Recorder(), forge=GitHubForge(url, Secret(FORGE_TOKEN)))
    commit = head(lab_git)
    assert first.hook("github", push_body(commit)).status_code == 202
    wait_until(lambda: len(first.finished_runs()) == 2, what="runs")
    assert state.statuses_for(REPO, commit) == []  # the forge was down the whole time
    first.stop()
    state.limits.outage(0)
    start_runner(Recorder(), forge=GitHubForge(url, Secret(FORGE_TOKEN)))  # same database: a restart
    expected = {"runner/home": "success", "runner/other": "success"}
    wait_until(lambda: final_states(state, commit) == expected, 30, "final statuses after the outage")


def test_busy_replies_carry_the_wait_the_forge_asked_for_and_a_permission_403_is_permanent(forge_twin) -> None:  # type: ignore[no-untyped-def]
    from runner.core.errors import Permanent
    from runner.drivers.forge_replies import ForgeBusy

    state, url = forge_twin
    client = GitHubForge(url, Secret(FORGE_TOKEN))
    sha = "c" * 40
    state.limits.configure(limit=0, window=40)
    with pytest.raises(ForgeBusy) as primary:
        client.set_status(REPO, sha, "success", "runner/home", "", None)
    assert primary.value.retry_after is not None and 35 <= primary.value.retry_after <= 41
    state.limits.configure(secondary=90)
    with pytest.raises(ForgeBusy) as secondary:
        client.set_status(REPO, sha, "success", "runner/home", "", None)
    assert secondary.value.retry_after == 90
    state.limits.configure(limit=5000)
    state.limits.secondary_until = 0
    state.limits.outage(30)
    with pytest.raises(ForgeBusy) as down:
        client.set_status(REPO, sha, "success", "runner/home", "", None)
    assert down.value.retry_after is None and "HTTP 503" in str(down.value)
    state.limits.outage(0)
    state.add_pull(REPO, 4)
    state.add_token("reader-token", "reader", "read")
    ours = client.upsert_pr_comment(REPO, 4, plan_marker("home"), "plan")
    reader = httpx_patch(url, ours)
    assert reader == 403
    with pytest.raises(Permanent, match="403"):
        GitHubForge(url, Secret("reader-token"))._request(
            "PATCH", f"/repos/{REPO}/issues/comments/{ours}", json={"body": "x"}
        )


def httpx_patch(url: str, comment_id: int) -> int:
    import httpx

    reply = httpx.patch(
        f"{url}/repos/{REPO}/issues/comments/{comment_id}",
        headers={"Authorization": "Bearer reader-token"},
        json={"body": "defaced"},
    )
    return reply.status_code
