"""The JSON API, the probes and /metrics tell the truth about deliveries, runs and the queue."""

from __future__ import annotations

import re

from servicekit import Recorder, push_body, wait_until

from runner.engine.service.queue import RunRequest
from runner.engine.service.run_context import RunContext, RunResult


def metric(text: str, name: str, **labels: str) -> float:
    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(label_text) + r"\}" if labels else "") + r" ([0-9.e+-]+)"
    match = re.search(pattern, text)
    assert match, f"{name} {labels} not in metrics"
    return float(match.group(1))


def test_metrics_count_runs_rejections_deliveries_and_queue(lab_git, start_runner) -> None:
    runner = start_runner(Recorder())
    import pygit2

    head = str(pygit2.Repository(lab_git.url).references["refs/heads/main"].target)
    runner.hook("github", push_body(head), secret=None)
    runner.hook("github", push_body(head), secret="wrong")
    runner.hook("github", push_body(head), delivery="x")
    runner.hook("github", push_body(head), delivery="x")
    wait_until(lambda: len(runner.finished_runs()) == 2, what="runs")
    text = runner.client.get("/metrics").text
    assert metric(text, "runs_total", result="success") == 2
    assert metric(text, "runs_total", result="failure") == 0
    assert metric(text, "webhook_rejections_total", reason="missing_signature") == 1
    assert metric(text, "webhook_rejections_total", reason="bad_signature") == 1
    assert metric(text, "webhook_deliveries_total", outcome="queued", source="github") == 1
    assert metric(text, "webhook_deliveries_total", outcome="duplicate", source="github") == 1
    assert metric(text, "queue_depth") == 0
    assert metric(text, "step_duration_seconds_count", kind="git", status="succeeded") == 2


def test_run_details_steps_logs_and_redaction(start_runner) -> None:
    def leaky(request: RunRequest, ctx: RunContext) -> RunResult:
        ctx.add_secrets(["hunter2-token"])
        with ctx.step("observe", "proxmox", "GET /cluster/resources"):
            ctx.log("authenticating with hunter2-token")
        return RunResult(ok=False, summary="failed with hunter2-token", error="token hunter2-token refused")

    runner = start_runner(leaky)
    runner.hook("generic", {"ref": "main", "cluster": "home"})
    [run] = wait_until(lambda: runner.finished_runs(), what="run")
    detail = runner.client.get(f"/api/runs/{run['id']}").json()
    assert detail["result"] == "failure"
    assert [(s["step_id"], s["kind"], s["status"]) for s in detail["steps"]] == [("observe", "proxmox", "succeeded")]
    assert detail["logs"][0]["line"] == "authenticating with ***"
    assert "hunter2" not in str(detail)
    assert runner.client.get("/api/runs/999").status_code == 404
    assert runner.runs(result="failure")[0]["id"] == run["id"] and runner.runs(result="success") == []
    clusters = runner.client.get("/api/clusters").json()["clusters"]
    assert [c["name"] for c in clusters] == ["home"] and clusters[0]["last_applied_commit"] is None


def test_crashing_run_fn_is_a_failed_run_not_a_dead_worker(start_runner) -> None:
    def crash(request: RunRequest, ctx: RunContext) -> RunResult:
        raise RuntimeError("boom")

    runner = start_runner(crash)
    runner.hook("generic", {"ref": "main", "cluster": "home"})
    [run] = wait_until(lambda: runner.finished_runs(), what="run")
    assert run["result"] == "failure" and "boom" in run["error"]
    assert runner.client.get("/readyz").status_code == 200


def test_probes(start_runner) -> None:
    runner = start_runner(Recorder())
    assert runner.client.get("/healthz").json() == {"status": "ok"}
    ready = runner.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "worker": True, "scheduler": True}
    runner.service.worker.stop()
    assert runner.client.get("/readyz").status_code == 503
