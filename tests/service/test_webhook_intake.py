"""Webhooks: only signed, fresh, small, relevant deliveries queue work; everything else is refused or ignored."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from servicekit import SECRET, Recorder, payload, push_body, wait_until

from runner.server.signatures import sign, sign_generic


def head(lab_git) -> str:  # type: ignore[no-untyped-def]
    import pygit2

    return str(pygit2.Repository(lab_git.url).references["refs/heads/main"].target)


def test_signed_github_push_queues_one_run_per_touched_cluster(lab_git, start_runner) -> None:
    recorder = Recorder()
    runner = start_runner(recorder)
    commit = head(lab_git)
    reply = runner.hook("github", push_body(commit))
    assert reply.status_code == 202, reply.text
    assert reply.json()["status"] == "queued"
    runs = wait_until(lambda: len(runner.finished_runs()) == 2 and runner.finished_runs(), what="two runs")
    assert sorted(r["cluster"] for r in runs) == ["home", "other"]  # first apply: every cluster is new
    assert {r["commit_sha"] for r in runs} == {commit}
    assert {r["result"] for r in runs} == {"success"}
    assert {r["trigger"] for r in runs} == {"push"}
    assert b"name: home" in next(c[3] for c in recorder.calls if c[0] == "home")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing signature"),
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, "invalid signature"),
        ({"X-Hub-Signature-256": "md5=abcd"}, "missing signature"),
    ],
)
def test_unsigned_or_forged_push_is_401_and_queues_nothing(lab_git, start_runner, headers, reason) -> None:
    runner = start_runner(Recorder())
    reply = runner.hook("github", push_body(head(lab_git)), secret=None, headers=headers)
    assert reply.status_code == 401
    assert reply.json()["reason"] == reason
    assert runner.service.queue.depth() == 0 and runner.service.queue.items() == []


# Where each source carries its signature, and what comes before the hex digest.
SIGNATURE_HEADER = {
    "github": ("X-Hub-Signature-256", "sha256="),
    "gitea": ("X-Gitea-Signature", ""),
    "generic": ("X-Runner-Signature", "sha256="),
}


@pytest.mark.parametrize("source", ["github", "gitea", "generic"])
@pytest.mark.parametrize("cut", ["empty", "half", "all-but-one"])
def test_an_empty_or_truncated_signature_is_401_and_queues_nothing(lab_git, start_runner, source, cut) -> None:
    """Only the whole HMAC opens the door: an empty digest or any prefix of the right one is refused."""
    runner = start_runner(Recorder())
    body = push_body(head(lab_git), "gitea" if source == "gitea" else "github")
    if source == "generic":
        body = {"ref": "main", "mode": "apply", "cluster": "home"}
    stamp = int(time.time())
    raw = json.dumps(body).encode()  # what `hook` sends
    right = sign_generic(SECRET, stamp, raw) if source == "generic" else sign(SECRET, raw)
    digest = {"empty": "", "half": right[:32], "all-but-one": right[:-1]}[cut]
    header, prefix = SIGNATURE_HEADER[source]
    if not prefix and not digest:  # an empty X-Gitea-Signature is no header; Gitea's GitHub-style one can be `sha256=`
        header, prefix = "X-Hub-Signature-256", "sha256="
    reply = runner.hook(source, body, secret=None, timestamp=stamp, headers={header: prefix + digest})
    assert reply.status_code == 401, reply.text
    assert reply.json()["reason"] in ("invalid signature", "missing signature")
    assert runner.service.queue.items() == []
    # The whole digest in the same place is accepted: what was refused above was the cut, nothing else.
    assert runner.hook(source, body, secret=None, timestamp=stamp, headers={header: prefix + right}).status_code == 202


def test_signature_with_another_secret_is_refused(lab_git, start_runner) -> None:
    runner = start_runner(Recorder())
    reply = runner.hook("gitea", push_body(head(lab_git), "gitea"), secret="not-the-secret")
    assert reply.status_code == 401
    assert runner.service.queue.items() == []


def test_replayed_delivery_is_a_duplicate_and_runs_once(lab_git, start_runner) -> None:
    recorder = Recorder()
    runner = start_runner(recorder)
    body = push_body(head(lab_git))
    first = runner.hook("github", body, delivery="d-1")
    second = runner.hook("github", body, delivery="d-1")
    assert first.status_code == 202
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    wait_until(lambda: len(runner.finished_runs()) == 2, what="runs")
    assert sorted(recorder.clusters()) == ["home", "other"]


@pytest.mark.parametrize("source", ["github", "gitea"])
def test_the_same_signed_body_twice_without_a_delivery_id_is_a_duplicate(lab_git, start_runner, source) -> None:
    """Without a delivery-id header the body identifies the delivery: a byte-identical replay queues nothing."""
    recorder = Recorder()
    runner = start_runner(recorder)
    body = push_body(head(lab_git), source)
    first = runner.hook(source, body, send_delivery=False)
    second = runner.hook(source, body, send_delivery=False)
    assert first.status_code == 202 and first.json()["status"] == "queued"
    assert (second.status_code, second.json()["status"]) == (200, "duplicate"), second.text
    assert second.json()["delivery"] == first.json()["delivery"]
    wait_until(lambda: len(runner.finished_runs()) == 2 and not runner.service.queue.items(), what="runs")
    assert sorted(recorder.clusters()) == ["home", "other"]  # one run per cluster, from the first delivery only


def test_oversized_body_is_413_before_anything_else(lab_git, start_runner) -> None:
    runner = start_runner(Recorder(), max_body_bytes=4096)
    body = push_body(head(lab_git))
    body["padding"] = "x" * 5000
    reply = runner.hook("github", body)
    assert reply.status_code == 413
    assert runner.service.queue.items() == []


def test_gitea_and_forgejo_headers_are_accepted(lab_git, start_runner) -> None:
    # Inside the settle window the second delivery of the same push coalesces into the first: one run per cluster.
    runner = start_runner(Recorder(), settle_seconds=1.5)
    raw = (
        b'{"ref": "refs/heads/main", "after": "'
        + head(lab_git).encode()
        + b'", "repository": {"full_name": "lab/home"}}'
    )
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    forgejo = {"X-Forgejo-Event": "push", "X-Forgejo-Delivery": "f-1", "X-Forgejo-Signature": signature}
    reply = runner.client.post("/hooks/gitea", content=raw, headers=forgejo)
    assert reply.status_code == 202
    assert (reply.json()["status"], reply.json()["coalesced"]) == ("queued", False)
    reply = runner.hook("gitea", push_body(head(lab_git), "gitea"))
    assert reply.status_code == 202
    assert (reply.json()["status"], reply.json()["coalesced"]) == ("queued", True)
    wait_until(lambda: not runner.service.queue.items() and runner.finished_runs(), what="the run")
    wait_until(lambda: len(runner.finished_runs()) >= 2, what="a run of each cluster")
    runs = sorted((r["cluster"], r["commit_sha"]) for r in runner.finished_runs())
    assert runs == [("home", head(lab_git)), ("other", head(lab_git))]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b: b["repository"].update(full_name="someone/else", clone_url="https://x/y.git"), "repository"),
        (lambda b: b.update(ref="refs/heads/feature"), "not the protected branch"),
        (lambda b: b.update(ref="refs/tags/v1.0.0"), "not the protected branch"),
        (lambda b: b.update(after="0" * 40, deleted=True), "branch deleted"),
    ],
)
def test_events_for_other_repos_or_refs_are_ignored(lab_git, start_runner, mutate, reason) -> None:
    runner = start_runner(Recorder())
    body = push_body(head(lab_git))
    mutate(body)
    reply = runner.hook("github", body)
    assert reply.status_code == 202
    assert reply.json()["status"] == "ignored" and reason in reply.json()["reason"]
    assert runner.service.queue.items() == []


def test_ping_gets_pong_and_unknown_events_are_ignored(lab_git, start_runner) -> None:
    runner = start_runner(Recorder())
    ping = payload("github_ping.json")
    ping["repository"]["full_name"] = "lab/home"
    reply = runner.hook("github", ping, event="ping")
    assert reply.status_code == 200 and reply.json()["status"] == "pong"
    reply = runner.hook("github", push_body(head(lab_git)), event="issues")
    assert reply.status_code == 202 and reply.json()["status"] == "ignored"
    assert runner.service.queue.items() == []


def test_non_json_body_is_400(start_runner) -> None:
    runner = start_runner(Recorder())
    assert runner.hook("github", b"not json").status_code == 400


def test_generic_hook_plans_one_cluster_and_refuses_apply_off_branch(lab_git, start_runner) -> None:
    recorder = Recorder()
    runner = start_runner(recorder)
    reply = runner.hook("generic", {"ref": "feature", "mode": "apply", "cluster": "home"})
    assert reply.json()["status"] == "ignored"
    reply = runner.hook("generic", {"ref": "main", "mode": "plan", "cluster": "home"})
    assert reply.status_code == 202 and reply.json()["status"] == "queued"
    run = wait_until(lambda: runner.finished_runs(), what="run")[0]
    assert (run["cluster"], run["mode"], run["trigger"], run["commit_sha"]) == ("home", "plan", "manual", head(lab_git))
