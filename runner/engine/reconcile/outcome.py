"""What one reconcile reports: its plan, the execution's result or the error that stopped it, the one-line
summary of it, and the Markdown plan of a PR comment."""

from __future__ import annotations

from dataclasses import dataclass, field

from runner.core.render import render_markdown
from runner.core.steps import Plan, Step
from runner.engine.reconcile.executor import ExecResult


@dataclass
class Outcome:
    cluster: str
    plan: Plan | None = None
    result: ExecResult | None = None
    error: str | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    transient: bool = False  # failed before changing anything, for a reason that may pass: retry the run
    snapshot_failed: str | None = None  # why an etcd snapshot failed: the text of a "snapshot_failed" notice

    @property
    def ok(self) -> bool:
        return self.error is None and (self.result is None or self.result.ok)

    @property
    def waiting(self) -> str | None:
        """Why disruptive steps did not start (a closed maintenance window), if any did not."""
        if self.result is None or not self.result.waiting:
            return None
        return next(iter(self.result.waiting.values()))

    def summary(self) -> str:
        if self.error and self.plan is None:
            return f"failed before planning: {self.error.splitlines()[0]}"
        assert self.plan is not None
        if self.result is None:
            return f"planned {len(self.plan.steps)} steps" + (f"; {self.error}" if self.error else "")
        done = sum(1 for s in self.result.statuses.values() if s == "done")
        if self.result.ok:
            applied = f"applied {done} steps in {self.seconds:.1f}s" if done else "no changes"
            if self.waiting:
                applied += f"; {counted(len(self.result.waiting), 'disruptive step')} {self.waiting}"
            return "; ".join([applied, *self.result.awaiting.values()])  # nodes that answer no more, by name
        return f"failed at {self.result.failed_step} after {done} steps: {self.result.error}"


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def plan_markdown(outcome: Outcome) -> str:
    if outcome.plan is None:
        return f"### Plan for cluster `{outcome.cluster}`\n\n:x: {outcome.error}\n"
    return render_markdown(outcome.plan)


class NullReporter:
    """For a run nobody follows step by step."""

    def step_started(self, step: Step) -> None:
        pass

    def step_finished(self, step: Step, status: str, message: str, seconds: float) -> None:
        pass

    def log(self, message: str) -> None:
        pass
