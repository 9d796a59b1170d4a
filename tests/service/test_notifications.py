"""Notices through apprise reach a real HTTP endpoint, redacted, and never hold up a run."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from servicekit import wait_until

from runner.core.errors import Permanent
from runner.core.render import render_json
from runner.core.secret import Redactor, Secret
from runner.core.steps import Plan
from runner.drivers.notify import AppriseNotifier, Level
from runner.engine.service.notifications import Notifications
from runner.engine.service.queue import RunRequest
from runner.engine.service.run_context import RunContext, RunResult

TOKEN = "pve-token-secret-0123456789"


@dataclass
class Endpoint:
    """A loopback HTTP server recording what apprise's json:// target posts to it."""

    received: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"json://127.0.0.1:{self.server.server_address[1]}/notify"

    def titles(self) -> list[str]:
        return [str(r["title"]) for r in self.received]


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    ep = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ep.received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    ep.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=ep.server.serve_forever, daemon=True)
    thread.start()
    yield ep
    ep.server.shutdown()


def leaky_failure(request: RunRequest, ctx: RunContext) -> RunResult:
    """A run whose driver error echoes a secret the run registered, as a misbehaving API might."""
    ctx.add_secrets([TOKEN])
    return RunResult(ok=False, summary=f"failed at vm/300: 401 for token {TOKEN}", error=f"token {TOKEN} refused")


def drifted(request: RunRequest, ctx: RunContext) -> RunResult:
    plan = Plan(request.cluster, notes=("drift: vm 303 is stopped",))
    return RunResult(ok=True, summary="no changes", plan_json=render_json(plan), drift=tuple(plan.drift))


def test_a_failed_apply_is_announced_to_a_local_endpoint_with_secrets_redacted(start_runner, endpoint) -> None:
    runner = start_runner(leaky_failure, drift_interval=0.3, notify_urls=[endpoint.url], notify_events=["run_failed"])
    wait_until(lambda: len(endpoint.received) >= 2, what="failure notices for both clusters")
    runner.service.worker.stop()
    failed = [r for r in endpoint.received if r["title"] in ("home: run failed", "other: run failed")]
    assert {r["title"] for r in failed} == {"home: run failed", "other: run failed"}
    assert all(r["type"] == "failure" for r in failed)
    assert all("failed at vm/300: 401 for token ***" in r["message"] for r in failed)
    assert TOKEN not in json.dumps(endpoint.received)
    assert {r["title"].split(": ", 1)[1] for r in endpoint.received} == {"run failed"}  # the filter held


def test_a_drift_run_that_finds_drift_says_what_it_found(start_runner, endpoint) -> None:
    runner = start_runner(drifted, drift_interval=0.3, notify_urls=[endpoint.url])
    wait_until(lambda: "home: drift found" in endpoint.titles(), what="drift notice")
    runner.service.worker.stop()
    drift = next(r for r in endpoint.received if r["title"] == "home: drift found")
    assert drift["message"] == "drift: vm 303 is stopped"
    assert drift["type"] == "warning"
    assert "home: run started" in endpoint.titles() and "home: run succeeded" in endpoint.titles()


def held(request: RunRequest, ctx: RunContext) -> RunResult:
    why = "waiting for the maintenance window at 2026-12-05T02:00+01:00 (CET)"
    return RunResult(ok=True, summary=f"applied 1 step; 1 disruptive step {why}", waiting=why)


def test_a_step_held_for_a_window_is_announced_with_when_it_opens(start_runner, endpoint) -> None:
    runner = start_runner(held, drift_interval=0.3, notify_urls=[endpoint.url], notify_events=["window_wait"])
    wait_until(lambda: "home: waiting for a maintenance window" in endpoint.titles(), what="window notice")
    runner.service.worker.stop()
    notice = next(r for r in endpoint.received if r["title"] == "home: waiting for a maintenance window")
    assert notice["message"] == "waiting for the maintenance window at 2026-12-05T02:00+01:00 (CET)"


def snapshot_refused(request: RunRequest, ctx: RunContext) -> RunResult:
    why = "etcd snapshot of home failed on every controller: talos-cp-01: timeout"
    return RunResult(ok=False, summary="failed at etcd/snapshot", snapshot_failed=why)


def test_a_failed_snapshot_is_announced(start_runner, endpoint) -> None:
    runner = start_runner(
        snapshot_refused, drift_interval=0.3, notify_urls=[endpoint.url], notify_events=["snapshot_failed"]
    )
    wait_until(lambda: "home: etcd snapshot failed" in endpoint.titles(), what="snapshot notice")
    runner.service.worker.stop()
    notice = next(r for r in endpoint.received if r["title"] == "home: etcd snapshot failed")
    assert notice["message"] == "etcd snapshot of home failed on every controller: talos-cp-01: timeout"
    assert notice["type"] == "failure"


class Blocked:
    """A notification target that does not answer until released: a dead chat service."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.sent: list[tuple[str, str, Level]] = []

    def send(self, title: str, body: str, level: Level) -> bool:
        self.entered.set()
        self.release.wait(30)
        self.sent.append((title, body, level))
        return True


def test_a_target_that_never_answers_does_not_hold_up_the_run(start_runner) -> None:
    target = Blocked()
    runner = start_runner(drifted, drift_interval=0.3)
    runner.service.worker.reports.notifications = Notifications(target)
    # Runs keep finishing while the first notice is still stuck in the target.
    wait_until(lambda: len(runner.finished_runs(trigger="drift")) >= 4, what="runs while the target hangs")
    assert target.sent == []
    target.release.set()
    runner.service.worker.stop()
    assert target.sent, "the held notices are delivered once the target answers"


def test_notify_never_blocks_and_drops_when_the_queue_is_full() -> None:
    target = Blocked()
    notices = Notifications(target, max_pending=2)
    notices.notify("run_failed", "c0", "boom", Redactor())
    assert target.entered.wait(10)
    for n in range(1, 5):
        notices.notify("run_failed", f"c{n}", "boom", Redactor())
    # One notice is in the target's hands, two wait, two were dropped.
    assert notices.dropped == 2
    target.release.set()
    assert notices.flush(10)
    assert [t for t, _, _ in target.sent] == ["c0: run failed", "c1: run failed", "c2: run failed"]


def test_a_target_that_raises_is_counted_not_propagated() -> None:
    class Broken:
        def send(self, title: str, body: str, level: Level) -> bool:
            raise ConnectionError("refused")

    notices = Notifications(Broken())
    notices.notify("run_failed", "home", "no healthy controller", Redactor())
    assert notices.flush(10)
    assert (notices.sent, notices.failed) == (0, 1)


def test_an_unknown_url_names_its_position_not_its_text() -> None:
    with pytest.raises(Permanent) as err:
        AppriseNotifier([Secret("json://127.0.0.1:1/ok"), Secret("nosuchscheme://hooks.example/T0KEN-VALUE")])
    assert "notify_urls[1]" in str(err.value)
    assert "T0KEN-VALUE" not in str(err.value)
