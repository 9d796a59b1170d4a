"""The failover test's RunFn: the runner's own step executor over a plan of slow steps, each step's call logged.

Each step appends when it starts and ends (process id, step, time) to the call log the test names, the way a
twin logs the calls it answers: two replicas running the same cluster at once would show as overlapping
steps. The executor asks the run's lease before each step (`still_ours`), as it does in a real apply.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from runner.core.errors import Cancelled
from runner.core.steps import Kind, Plan, Step
from runner.engine.reconcile.executor import execute
from runner.engine.service.queue import RunRequest
from runner.engine.service.run_context import RunContext, RunResult
from runner.engine.service.run_fn import JournalReporter

CALL_LOG_ENV = "RUNNER_TEST_CALL_LOG"
STEPS_ENV = "RUNNER_TEST_STEPS"  # "<count>x<seconds>"


def _note(event: str, step: str, request: RunRequest) -> None:
    call = {"pid": os.getpid(), "cluster": request.cluster, "event": event, "step": step, "t": time.time()}
    line = json.dumps({**call, "commit": request.commit})
    with Path(os.environ[CALL_LOG_ENV]).open("a") as log:  # one short line per write: appends never interleave
        log.write(line + "\n")


def logged_steps(request: RunRequest, ctx: RunContext) -> RunResult:
    count, seconds = os.environ.get(STEPS_ENV, "6x0.5").split("x")
    ids = [f"step-{i}" for i in range(int(count))]
    steps = tuple(
        Step(sid, Kind.ENSURE_IMAGE, request.cluster, "failover test", depends_on=tuple(ids[i - 1 : i]))
        for i, sid in enumerate(ids)
    )

    def handler(step: Step) -> str:
        _note("start", step.id, request)
        time.sleep(float(seconds))
        _note("end", step.id, request)
        return "done"

    cancel = threading.Event()
    result = execute(
        Plan(request.cluster, steps), handler, JournalReporter(ctx, request), cancel=cancel, still_ours=ctx.still_ours
    )
    if cancel.is_set() and not result.ok:
        raise Cancelled(result.error or "cancelled")
    summary = f"{len([s for s in result.statuses.values() if s == 'done'])} steps done at {request.commit[:12]}"
    return RunResult(ok=result.ok, summary=summary, error=result.error)
