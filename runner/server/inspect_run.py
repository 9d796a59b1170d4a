"""A read-only RunFn: reads the cluster's files at the commit and reports them, touching nothing else.

Useful to smoke-test the service (webhooks, queue, journal, statuses, comments) without any
infrastructure behind it, and as the run the idle-memory benchmark serves with.
"""

from __future__ import annotations

from runner.engine.service.queue import RunRequest
from runner.engine.service.run_context import RunContext, RunResult


def inspect_run(request: RunRequest, ctx: RunContext) -> RunResult:
    path = f"clusters/{request.cluster}/cluster.yaml"
    with ctx.step("read-spec", "git", path):
        blob = ctx.git.blob_id(request.commit, path)
    if blob is None:
        return RunResult(ok=False, summary=f"{path} not found at {request.commit[:12]}", error=f"{path}: missing")
    ctx.log(f"{path} at {request.commit[:12]} is blob {blob[:12]}")
    summary = f"{request.mode} of {request.cluster} at {request.commit[:12]}: cluster.yaml {blob[:12]}"
    plan = f"### {request.cluster}\n\n`{path}` at `{request.commit[:12]}` is blob `{blob[:12]}` (inspect only)."
    return RunResult(ok=True, summary=summary, plan_markdown=plan if request.mode == "plan" else None)
