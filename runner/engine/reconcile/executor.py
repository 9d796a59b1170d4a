"""Runs a plan: independent steps in parallel (bounded), dependent ones in order, Transient errors retried.

A Permanent failure stops scheduling (steps already running finish) and leaves everything not yet started
untouched; since every step is idempotent, the next reconcile re-plans from what is really there. A step
that raises Waiting (a node that answers no more) stops only what depends on it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

from runner.core.errors import Cancelled, Permanent, Transient, Waiting
from runner.core.steps import Plan, Step


class Reporter(Protocol):
    def step_started(self, step: Step) -> None: ...

    def step_finished(self, step: Step, status: str, message: str, seconds: float) -> None: ...

    def log(self, message: str) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        # Exponential backoff with jitter, so parallel steps hitting the same flaky API spread out.
        return float(min(self.max_delay, self.base_delay * 2**attempt) * (0.5 + random.random() / 2))


@dataclass
class ExecResult:
    statuses: dict[str, str] = field(default_factory=dict)  # step id -> done | failed | skipped | waiting
    waiting: dict[str, str] = field(default_factory=dict)  # step id -> why it did not start (a closed window)
    awaiting: dict[str, str] = field(default_factory=dict)  # step id -> what it found not there yet (Waiting)
    error: str | None = None
    failed_step: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


Handler = Callable[[Step], str | None]  # returns a short result message
Gate = Callable[[Step], str | None]  # asked as a disruptive step is due: None = start it, else why it waits
# Asked before each step starts: does this runner still hold the cluster (its lease and fencing token)? A
# runner that lost it to another replica starts nothing more: the other one now runs the cluster.
StillOurs = Callable[[], bool]


def _run_one(step: Step, handler: Handler, policy: RetryPolicy, cancel: threading.Event, reporter: Reporter) -> str:
    attempt = 0
    while True:
        if cancel.is_set():
            raise Cancelled(f"{step.id}: run cancelled before the step finished")
        try:
            return handler(step) or "done"
        except Transient as exc:
            attempt += 1
            if attempt >= policy.attempts:
                raise Permanent(f"{step.id}: still failing after {attempt} attempts: {exc}") from None
            pause = policy.delay(attempt)
            reporter.log(f"{step.id}: {exc} (retry {attempt}/{policy.attempts - 1} in {pause:.1f}s)")
            if cancel.wait(pause):
                raise Cancelled(f"{step.id}: run cancelled while retrying") from None


def execute(
    plan: Plan,
    handler: Handler,
    reporter: Reporter,
    *,
    max_parallel: int = 5,
    policy: RetryPolicy | None = None,
    cancel: threading.Event | None = None,
    gate: Gate | None = None,
    still_ours: StillOurs | None = None,
) -> ExecResult:
    policy = policy or RetryPolicy()
    cancel = cancel or threading.Event()
    result = ExecResult()
    pending = {s.id: s for s in plan.steps}
    running: dict[Future[str], tuple[Step, float]] = {}
    with ThreadPoolExecutor(max_workers=max(1, max_parallel), thread_name_prefix="step") as pool:
        while pending or running:
            if result.error is None and not cancel.is_set():
                for step in list(pending.values()):
                    if len(running) >= max_parallel:
                        break
                    if all(result.statuses.get(d) == "done" for d in step.depends_on):
                        if still_ours is not None and not still_ours():
                            cancel.set()
                            result.error = f"{step.id}: not started: another runner holds the cluster's lease now"
                            break
                        del pending[step.id]
                        # Asked when the step is due, not when the run began: a long run must not carry a
                        # disruptive step past the end of its window. What depends on it waits with it.
                        if step.disruptive and gate is not None and (why := gate(step)):
                            result.statuses[step.id], result.waiting[step.id] = "waiting", why
                            reporter.step_finished(step, "waiting", why, 0.0)
                            continue
                        reporter.step_started(step)
                        fut = pool.submit(_run_one, step, handler, policy, cancel, reporter)
                        running[fut] = (step, time.monotonic())
            if not running:
                break  # failed or cancelled: nothing more will start
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in finished:
                step, started = running.pop(fut)
                took = time.monotonic() - started
                try:
                    message = fut.result()
                except Waiting as exc:  # reported, not failed: only what depends on this step stays unstarted
                    result.statuses[step.id], result.awaiting[step.id] = "waiting", str(exc)
                    reporter.step_finished(step, "waiting", str(exc), took)
                except Exception as exc:
                    result.statuses[step.id] = "failed"
                    if result.error is None:
                        result.error, result.failed_step = str(exc) or type(exc).__name__, step.id
                    reporter.step_finished(step, "failed", str(exc), took)
                else:
                    result.statuses[step.id] = "done"
                    reporter.step_finished(step, "done", message, took)
    for step_id in pending:
        result.statuses[step_id] = "skipped"
    if result.error is None and cancel.is_set() and pending:
        result.error = "run cancelled"
    return result
