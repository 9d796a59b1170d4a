"""What a run is handed (`RunContext`) and what it hands back (`RunResult`); `RunFn` is the reconcile itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from runner.core.secret import Redactor
from runner.drivers.git import GitRepo
from runner.engine.service.journal import Journal
from runner.engine.service.queue import RunRequest


@dataclass(frozen=True)
class RunResult:
    ok: bool
    summary: str
    plan_markdown: str | None = None
    plan_json: str | None = None  # the plan as data (steps, reasons, dependencies) for the UI; never secrets
    error: str | None = None
    waiting: str | None = None  # disruptive steps held for a maintenance window, and until when
    snapshot_failed: str | None = None  # why an etcd snapshot failed (a disruptive step did not start)
    drift: tuple[str, ...] = ()  # what the plan found changed from outside (Plan.drift)


class RunContext:
    """What a run may touch of the service: the journal (redacted), the git cache, cancellation.

    `protected_commit` is the protected branch's head as fetched for this run: a plan takes every connection
    target from it, never from the commit it plans. `offline` says why a plan must contact nothing at all.
    """

    def __init__(
        self,
        journal: Journal,
        run_id: int,
        git: GitRepo,
        cancelled: Callable[[], bool],
        *,
        protected_commit: str | None = None,
        offline: str | None = None,
        still_ours: Callable[[], bool] | None = None,
    ) -> None:
        self.journal = journal
        self.run_id = run_id
        self.git = git
        self.redactor = Redactor()
        self.protected_commit = protected_commit
        self.offline = offline
        self._cancelled = cancelled
        self._still_ours = still_ours

    def add_secrets(self, values: Iterable[str]) -> None:
        self.redactor.add(values)

    def log(self, line: str, level: str = "info") -> None:
        self.journal.log(self.run_id, self.redactor(line), level)

    def step_started(self, step_id: str, kind: str, message: str = "") -> None:
        self.journal.start_step(self.run_id, step_id, kind, self.redactor(message))

    def step_finished(self, step_id: str, status: str, message: str = "") -> None:
        self.journal.finish_step(self.run_id, step_id, status, self.redactor(message))

    @contextmanager
    def step(self, step_id: str, kind: str, message: str = "") -> Iterator[None]:
        self.step_started(step_id, kind, message)
        try:
            yield
        except BaseException as exc:
            self.step_finished(step_id, "failed", str(exc))
            raise
        self.step_finished(step_id, "succeeded", message)

    def cancelled(self) -> bool:
        return self._cancelled()

    def still_ours(self) -> bool:
        """Does this replica still hold the cluster's lease (the fencing token the run started with)?"""
        return self._still_ours is None or self._still_ours()


RunFn = Callable[[RunRequest, RunContext], RunResult]
