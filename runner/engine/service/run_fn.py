"""The service's RunFn: a queued request becomes one reconcile of one cluster at one commit."""

from __future__ import annotations

import threading
from collections.abc import Callable

from runner.core.errors import Cancelled, Transient
from runner.core.render import render_json
from runner.core.steps import Plan, Step
from runner.engine.reconcile.outcome import Outcome, plan_markdown
from runner.engine.reconcile.reconciler import Engine
from runner.engine.reconcile.source import CommitSource
from runner.engine.service.queue import RunRequest
from runner.engine.service.run_context import RunContext, RunFn, RunResult

Listener = Callable[[str, RunRequest, object], None]  # (event, request, payload) for live views


class JournalReporter:
    """Executor events into the run journal (redacted there) and to an optional live listener."""

    def __init__(self, ctx: RunContext, request: RunRequest, listener: Listener | None = None) -> None:
        self.ctx = ctx
        self.request = request
        self.listener = listener

    def tell(self, event: str, payload: object) -> None:
        if self.listener is not None:
            self.listener(event, self.request, payload)

    def planned(self, plan: Plan) -> None:
        # Recorded at once, so the UI shows a running run's plan (redacted like everything in the journal).
        self.ctx.journal.record_plan(self.ctx.run_id, self.ctx.redactor(render_json(plan)))
        self.tell("plan", plan)

    def step_started(self, step: Step) -> None:
        self.ctx.step_started(step.id, step.kind.value, step.reason)
        self.tell("step_started", step)

    def step_finished(self, step: Step, status: str, message: str, seconds: float) -> None:
        if status == "waiting":  # held for a maintenance window: never started, but the run shows it and why
            self.ctx.step_started(step.id, step.kind.value, step.reason)
        self.ctx.step_finished(step.id, "succeeded" if status == "done" else status, message)
        self.tell("step_finished", (step, status, message, seconds))

    def log(self, message: str) -> None:
        self.ctx.log(message)
        self.tell("log", message)


def _watch_cancel(ctx: RunContext, cancel: threading.Event, done: threading.Event) -> None:
    while not done.wait(0.2):
        if ctx.cancelled():
            cancel.set()
            return


def make_run_fn(engine: Engine, listener: Listener | None = None) -> RunFn:
    def run(request: RunRequest, ctx: RunContext) -> RunResult:
        cancel, done = threading.Event(), threading.Event()
        threading.Thread(target=_watch_cancel, args=(ctx, cancel, done), daemon=True).start()
        reporter = JournalReporter(ctx, request, listener)
        targets_from, offline = None, ctx.offline
        if request.mode == "plan":  # a plan connects only where the protected branch says, or nowhere
            if ctx.protected_commit is None:
                offline = offline or "the protected branch was not found"
            else:
                targets_from = CommitSource(ctx.git, ctx.protected_commit)
        try:
            outcome: Outcome = engine.reconcile(
                CommitSource(ctx.git, request.commit),
                request.cluster,
                apply=request.mode == "apply",
                reporter=reporter,
                redactor=ctx.redactor,
                cancel=cancel,
                commit=request.commit,
                on_plan=reporter.planned,
                targets_from=targets_from,
                offline=offline,
                still_ours=ctx.still_ours,
            )
        finally:
            done.set()
        if cancel.is_set() and not outcome.ok:
            raise Cancelled(outcome.summary())
        if outcome.transient:  # nothing changed yet: let the worker retry the run with backoff
            raise Transient(outcome.error or "transient failure")
        for warning in outcome.warnings:
            ctx.log(warning, "warning")
        reporter.tell("finished", outcome)
        error = (outcome.result.error if outcome.result and outcome.result.error else None) or outcome.error
        return RunResult(
            ok=outcome.ok,
            summary=outcome.summary(),
            plan_markdown=plan_markdown(outcome),
            plan_json=render_json(outcome.plan) if outcome.plan else None,
            error=error,
            waiting=outcome.waiting,
            snapshot_failed=outcome.snapshot_failed,
            drift=tuple(outcome.plan.drift) if outcome.plan else (),
        )

    return run
