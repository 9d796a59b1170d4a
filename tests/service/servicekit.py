"""Helpers shared by the service tests: payload files, signed posting, a recording RunFn, polling."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from runner.core.errors import Cancelled
from runner.engine.service.queue import RunRequest
from runner.engine.service.run_context import RunContext, RunResult
from runner.lab.serve import RunningServer
from runner.server.service import Service
from runner.server.signatures import sign, sign_generic
from tests.polling import poll_until

HERE = Path(__file__).parent
PAYLOADS = HERE / "payloads"
SECRET = "lab-webhook-secret"
FORGE_TOKEN = "forge-token-for-tests"
REPO = "lab/home"


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll until `predicate` is truthy; the service runs in-process, so it is asked often."""
    return poll_until(predicate, what, timeout=timeout, interval=0.02)


@dataclass
class Recorder:
    """A real, simple RunFn: reads cluster.yaml at the commit through the git driver and records it."""

    calls: list[tuple[str, str, str, bytes]] = field(default_factory=list)
    gate: threading.Event | None = None  # when set up, runs wait here (to hold a run "in flight")
    honour_cancel: bool = True
    started: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: RunRequest, ctx: RunContext) -> RunResult:
        self.started.set()
        with ctx.step("read-spec", "git"):
            spec = ctx.git.read_file(request.commit, f"clusters/{request.cluster}/cluster.yaml")
        ctx.log(f"read {len(spec)} bytes for {request.cluster}")
        while self.gate is not None and not self.gate.wait(0.02):
            if self.honour_cancel and ctx.cancelled():
                raise Cancelled()
        with self.lock:
            self.calls.append((request.cluster, request.commit, request.mode, spec))
        plan = f"### Plan for {request.cluster}\n\ncommit `{request.commit[:12]}`" if request.mode == "plan" else None
        return RunResult(ok=True, summary=f"{request.mode} {request.cluster} ok", plan_markdown=plan)

    def clusters(self) -> list[str]:
        with self.lock:
            return [c[0] for c in self.calls]


@dataclass
class Runner:
    url: str
    service: Service
    server: RunningServer
    client: httpx.Client

    def hook(
        self,
        source: str,
        body: dict[str, Any] | bytes,
        *,
        event: str = "push",
        delivery: str | None = None,
        send_delivery: bool = True,  # False: no delivery-id header at all (the body identifies the delivery)
        secret: str | None = SECRET,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        delivery = delivery or str(uuid.uuid4())
        signature = sign(secret, raw) if secret is not None else None
        if source == "generic":
            stamp = int(time.time()) if timestamp is None else timestamp
            hdrs["X-Runner-Timestamp"] = str(stamp)
            signature = sign_generic(secret, stamp, raw) if secret is not None else None
        if source == "github":
            hdrs |= {"X-GitHub-Event": event} | ({"X-GitHub-Delivery": delivery} if send_delivery else {})
            if signature:
                hdrs["X-Hub-Signature-256"] = f"sha256={signature}"
        elif source == "gitea":
            hdrs |= {"X-Gitea-Event": event} | ({"X-Gitea-Delivery": delivery} if send_delivery else {})
            if signature:
                hdrs["X-Gitea-Signature"] = signature
        else:
            hdrs |= {"X-Runner-Delivery": delivery} if send_delivery else {}
            if signature:
                hdrs["X-Runner-Signature"] = f"sha256={signature}"
        return self.client.post(f"/hooks/{source}", content=raw, headers=hdrs)

    def runs(self, **params: Any) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.client.get("/api/runs", params=params).json()["runs"]
        return runs

    def finished_runs(self, **params: Any) -> list[dict[str, Any]]:
        return [r for r in self.runs(**params) if r["status"] == "finished"]

    def stop(self) -> None:
        self.client.close()
        self.server.stop()


def push_body(commit: str, flavor: str = "github", ref: str = "refs/heads/main") -> dict[str, Any]:
    body = payload(f"{flavor}_push.json")
    body["ref"], body["after"] = ref, commit
    body["head_commit"]["id"] = commit
    body["repository"]["full_name"] = REPO
    return body
