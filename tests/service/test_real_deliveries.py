"""Real forge payloads, delivered the way each forge delivers them (JSON and form), are accepted; each
signature is checked over exactly the bytes that forge signs; no signed body can cause a 500."""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servicekit import HERE, SECRET, Recorder

from runner.server.signatures import sign, sign_generic

REAL = HERE / "payloads" / "real"

# file, event, the branch the runner protects, what the runner decides
CASES = [
    ("github", "github_push.json", "push", "master", "queued", "push 6113728f27ae"),
    ("github", "github_pull_request_opened.json", "pull_request", "master", "queued", "pull request #2 opened"),
    ("github", "github_pull_request_synchronize.json", "pull_request", "master", "queued", "#2 synchronize"),
    ("github", "github_ping.json", "ping", "master", "pong", "ping"),
    ("gitea", "gitea_push.json", "push", "main", "queued", "push ef98532add3b"),
    ("gitea", "gitea_pull_request_opened.json", "pull_request", "main", "queued", "pull request #1 opened"),
    ("gitea", "gitea_pull_request_synchronized.json", "pull_request", "main", "queued", "#2 synchronized"),
]


def deliver(
    client: httpx.Client, source: str, raw: bytes, event: str, form: bool, *, sign_over: bytes | None = None
) -> httpx.Response:
    """Send `raw` (the JSON payload) as the forge would: as the body, or as the form field `payload`."""
    body = urllib.parse.urlencode({"payload": raw.decode()}).encode() if form else raw
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    delivery = str(uuid.uuid4())
    if source == "github":  # GitHub signs the request body as sent
        signature = sign(SECRET, body if sign_over is None else sign_over)
        headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": f"sha256={signature}"}
    else:  # Gitea signs the JSON payload, also inside a form
        signature = sign(SECRET, raw if sign_over is None else sign_over)
        headers = {
            "X-Gitea-Event": event,
            "X-Gitea-Delivery": delivery,
            "X-Gitea-Signature": signature,
            "X-Hub-Signature-256": f"sha256={signature}",
            "X-GitHub-Event": event,
        }
    return client.post(f"/hooks/{source}", content=body, headers={"Content-Type": content_type, **headers})


def repo_of(raw: bytes) -> str:
    full_name: str = json.loads(raw)["repository"]["full_name"]
    return full_name


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
@pytest.mark.parametrize(("source", "name", "event", "branch", "status", "reason"), CASES)
def test_real_payload_is_accepted_as_json_and_as_form(
    start_runner, source: str, name: str, event: str, branch: str, status: str, reason: str, form: bool
) -> None:
    raw = (REAL / name).read_bytes()
    runner = start_runner(Recorder(), repo_full_name=repo_of(raw), branch=branch, workers=1)
    runner.service.worker.stop()  # these commits are not in the lab repo: look at the decision, not a run
    reply = deliver(runner.client, source, raw, event, form)
    assert reply.status_code == (200 if status == "pong" else 202), reply.text
    assert reply.json()["status"] == status
    assert reason in reply.json()["reason"]


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_a_signature_over_other_bytes_than_the_forge_signs_is_refused(start_runner, form: bool) -> None:
    github = (REAL / "github_push.json").read_bytes()
    gitea = (REAL / "gitea_push.json").read_bytes()
    runner = start_runner(Recorder(), repo_full_name=repo_of(github), branch="master")
    runner.service.worker.stop()
    form_body = urllib.parse.urlencode({"payload": gitea.decode()}).encode()
    if form:  # each forge's form signature checked the other forge's way
        assert deliver(runner.client, "github", github, "push", True, sign_over=github).status_code == 401
        assert deliver(runner.client, "gitea", gitea, "push", True, sign_over=form_body).status_code == 401
    else:
        assert deliver(runner.client, "github", github, "push", False, sign_over=github + b" ").status_code == 401
    assert runner.service.queue.items() == []


def signed_github(
    client: httpx.Client, body: bytes, event: str = "push", delivery: str | None = None
) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + sign(SECRET, body),
    }
    return client.post("/hooks/github", content=body, headers=headers)


def _pr_with(path: tuple[str, ...], value: Any) -> bytes:
    payload = json.loads((REAL / "github_pull_request_opened.json").read_bytes())
    node = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("event", "body", "says"),
    [
        ("push", b"[" * 5000 + b"]" * 5000, "nested deeper than 64"),
        ("push", b'{"a":' * 65 + b"1" + b"}" * 65, "nested deeper than 64"),
        ("push", b'{"ref": ' + b"9" * 5000 + b"}", "not valid JSON"),
        ("push", b"\xff\xfe{}", "not"),
        ("push", b"[1, 2]", "JSON list, not an object"),
        ("pull_request", _pr_with(("pull_request", "head", "sha"), 5), "pull_request.head.sha"),
        ("pull_request", _pr_with(("pull_request", "head"), None), "pull_request.head"),
        ("pull_request", _pr_with(("number",), "two"), "number"),
        ("pull_request", _pr_with(("number",), 2**70), "number: Input should be less than or equal to"),
        ("push", json.dumps({"repository": {"full_name": "Codertocat/Hello-World"}, "ref": 1}).encode(), "ref"),
        ("push", json.dumps({"repository": "Codertocat/Hello-World"}).encode(), "repository"),
    ],
)
def test_malformed_signed_bodies_are_400s_that_say_what_is_wrong(
    start_runner, event: str, body: bytes, says: str
) -> None:
    runner = start_runner(Recorder(), repo_full_name="Codertocat/Hello-World", branch="master")
    reply = signed_github(runner.client, body, event)
    assert reply.status_code == 400, reply.text
    assert says in reply.json()["reason"]
    assert runner.service.queue.items() == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(["ref", "after", "repository", "pull_request", "number", "action", "commits", "deleted"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from([c[1] for c in CASES]), key=KEYS, value=JSON, form=st.booleans())
def test_no_mutated_signed_payload_causes_a_500(start_runner, name: str, key: str, value: Any, form: bool) -> None:
    runner = _shared_runner(start_runner)
    source = next(c[0] for c in CASES if c[1] == name)
    event = next(c[2] for c in CASES if c[1] == name)
    payload = json.loads((REAL / name).read_bytes())
    payload[key] = value
    reply = deliver(runner.client, source, json.dumps(payload).encode(), event, form)
    assert reply.status_code in (200, 202, 400), reply.text


_RUNNERS: dict[int, Any] = {}


def _shared_runner(start_runner: Any) -> Any:
    """One server for every Hypothesis example of a test (the fixture is function-scoped)."""
    if id(start_runner) not in _RUNNERS:
        runner = start_runner(Recorder(), repo_full_name="Codertocat/Hello-World", branch="master")
        runner.service.worker.stop()
        _RUNNERS.clear()
        _RUNNERS[id(start_runner)] = runner
    return _RUNNERS[id(start_runner)]


def test_a_refused_delivery_is_not_recorded_so_its_redelivery_is_worked_on(start_runner) -> None:
    raw = (REAL / "github_push.json").read_bytes()
    runner = start_runner(Recorder(), repo_full_name=repo_of(raw), branch="master")
    runner.service.worker.stop()
    broken = json.dumps({"repository": {"full_name": repo_of(raw)}, "ref": 1}).encode()
    assert signed_github(runner.client, broken, delivery="d-7").status_code == 400
    again = signed_github(runner.client, raw, delivery="d-7")
    assert again.status_code == 202 and again.json()["status"] == "queued"
    assert signed_github(runner.client, raw, delivery="d-7").json()["status"] == "duplicate"


def generic(client: httpx.Client, body: bytes, stamp: int | None, signed_stamp: int | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-Runner-Delivery": str(uuid.uuid4())}
    if stamp is not None:
        headers["X-Runner-Timestamp"] = str(stamp)
    headers["X-Runner-Signature"] = "sha256=" + sign_generic(SECRET, signed_stamp or stamp or 0, body)
    return client.post("/hooks/generic", content=body, headers=headers)


def test_generic_hook_signs_a_timestamp_and_refuses_replays_outside_the_window(start_runner) -> None:
    runner = start_runner(Recorder(), replay_window=60)
    body = json.dumps({"ref": "main", "mode": "plan", "cluster": "home"}).encode()
    now = int(time.time())
    assert generic(runner.client, body, now).status_code == 202
    stale = generic(runner.client, body, now - 61)
    assert stale.status_code == 401 and "replay window is 60s" in stale.json()["reason"]
    assert generic(runner.client, body, now + 61).status_code == 401  # from the future: same
    missing = generic(runner.client, body, None)
    assert missing.status_code == 401 and "X-Runner-Timestamp" in missing.json()["reason"]
    moved = generic(runner.client, body, now, signed_stamp=now - 1)  # a fresh stamp on an old signature
    assert moved.status_code == 401 and moved.json()["reason"] == "invalid signature"
    unknown = generic(runner.client, json.dumps({"ref": "main", "rm": "-rf"}).encode(), now)
    assert unknown.status_code == 400 and "rm" in unknown.json()["reason"]


def test_body_limit_defaults_to_githubs_25_mb_cap(tmp_path: Path) -> None:
    from runner.engine.service.settings import load_settings

    settings_ = load_settings(repo_url="x", webhook_secret=SECRET, db_path=tmp_path / "db")
    assert settings_.max_body_bytes == 25 * 1024 * 1024
    assert settings_.replay_window == 300
