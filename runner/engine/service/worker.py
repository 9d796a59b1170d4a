"""Worker threads: take queue items, expand "which clusters?" items, run one cluster at a time.

The reconcile itself is a `RunFn` handed in from outside (the engine's reconcile, or a small one in
tests); the worker owns everything around it: the journal record, commit statuses, the PR comment,
retries of transient failures, and cancellation when the service stops or a plan is superseded.
An apply runs the protected branch's head as fetched when its item is claimed (`branch_head`), never
the commit an event named, so the order deliveries arrive in cannot take a cluster back.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import replace
from typing import Literal

from runner.core.errors import Cancelled, Permanent, Transient
from runner.drivers import workdir
from runner.drivers.forge import Forge
from runner.drivers.git import GitRepo
from runner.engine.service.branch_head import deliveries, judge
from runner.engine.service.database import STORE_ERRORS
from runner.engine.service.expansion import Expansion
from runner.engine.service.heartbeat import Heartbeat
from runner.engine.service.journal import Journal
from runner.engine.service.leases import Lease, Leases
from runner.engine.service.notifications import Notifications
from runner.engine.service.queue import ANY_CLUSTER, Ask, QueueItem, RunRequest, WorkQueue
from runner.engine.service.reports import Reports
from runner.engine.service.run_context import RunContext, RunFn, RunResult

log = logging.getLogger(__name__)
DB_PAUSE_MIN, DB_PAUSE_MAX = 0.5, 5.0  # seconds a worker waits after a database error (doubling)
Outcome = Literal["done", "retry", "released", "answered", "fenced"]  # what becomes of the item after a run


class Worker:
    def __init__(
        self,
        *,
        queue: WorkQueue,
        journal: Journal,
        git: GitRepo,
        run_fn: RunFn,
        branch: str,
        clusters_dir: str = "clusters",
        flux_dir: str = "flux",
        threads: int = 2,
        retry_limit: int = 3,
        retry_backoff: float = 5.0,
        forge: Forge | None = None,
        public_url: str = "",
        notifications: Notifications | None = None,
        notify_plans: bool = False,
        fork_plans_online: bool = False,
        owner: str | None = None,
    ) -> None:
        self.queue, self.journal, self.git, self.run_fn = queue, journal, git, run_fn
        self.branch = branch
        self.expansion = Expansion(queue, journal, git, branch, clusters_dir, flux_dir)
        self.retry_limit, self.retry_backoff = retry_limit, retry_backoff
        self.owner = owner or uuid.uuid4().hex  # this process's claim on queue items and leases
        self.heartbeat = Heartbeat(queue, Leases(queue.db, queue.lease_seconds), self.owner)
        outbox_duty = lambda: self.heartbeat.duty("forge-outbox")  # noqa: E731 - one sender across replicas
        self.reports = Reports(queue.db, forge, public_url, notifications, notify_plans, outbox_duty)
        self.fork_plans_online = fork_plans_online
        self.db_error: str | None = None  # the last database error a thread met, until one succeeds again
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, name=f"worker-{i}", daemon=True) for i in range(threads)]

    def start(self) -> None:
        if not self.queue.db.shared:  # one process per database: whatever was running, this one's last life ran
            self.journal.interrupt_running()
            self.queue.requeue_orphans(every_running=True)
            self.heartbeat.leases.expire_all()
        self.heartbeat.start()
        swept = workdir.sweep()  # credentials a killed runner left on disk mid-call
        if swept:
            log.warning("removed %d private work directories left by runners that died mid-call", swept)
        for thread in self._threads:
            thread.start()
        self.reports.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.queue.notify()
        for thread in self._threads:
            thread.join(timeout)
        self.reports.stop(timeout)
        self.heartbeat.stop(timeout)

    def alive(self) -> bool:
        return not self._stop.is_set() and all(t.is_alive() for t in self._threads) and self.heartbeat.alive()

    def _loop(self) -> None:
        """Never ends before `stop`: a database error (locked, full, I/O) pauses the thread, never kills it."""
        pause = DB_PAUSE_MIN
        while not self._stop.is_set():
            try:
                self._turn()
                pause = DB_PAUSE_MIN
            except STORE_ERRORS as exc:
                self.db_error = str(exc)
                log.warning("worker: database error, retrying in %.1fs: %s", pause, exc)
                self._stop.wait(pause)
                pause = min(pause * 2, DB_PAUSE_MAX)
            except Exception:  # a bug in the loop itself: keep the thread, say why
                log.exception("worker: unexpected error; continuing")
                self._stop.wait(DB_PAUSE_MIN)

    def _turn(self) -> None:
        self.queue.arm()
        if self.queue.db.shared:  # claims another replica stopped renewing: its runs are over
            orphans = self.queue.requeue_orphans()
            if orphans:
                log.warning("took back %d queue items whose replica stopped renewing its claim", len(orphans))
                self.journal.interrupt_running(orphans)
        item = self.queue.claim(self.owner)
        self.db_error = None
        if item is None:
            self.queue.wait(1.0)  # woken early by enqueue/done; the timeout covers delayed retries
            return
        try:
            if item.request.cluster == ANY_CLUSTER:
                self.expansion.expand(item, self.owner)
            else:
                self._execute(item)
        except Transient:
            self._retry(item)
        except STORE_ERRORS:
            self._give_back(item)  # the item is fine; the database was not: run it again once it is
            raise
        except Exception:  # a broken item must not kill the worker; it is dropped, with the reason logged
            log.exception("dropping queue item %s (%s)", item.id, item.request.key)
            self.queue.done(item, self.owner)

    def _give_back(self, item: QueueItem) -> None:
        """Return an item to pending, waiting out the database; a restart's orphan sweep is the last resort."""
        pause = DB_PAUSE_MIN
        while not self._stop.is_set():
            try:
                self.queue.release(item, self.owner)
                return
            except STORE_ERRORS as exc:
                self.db_error = str(exc)
                self._stop.wait(pause)
                pause = min(pause * 2, DB_PAUSE_MAX)

    def _retry(self, item: QueueItem) -> None:
        if item.attempts < self.retry_limit:
            self.queue.retry_later(item, self.owner, self.retry_backoff * 2**item.attempts)
        else:
            self.queue.done(item, self.owner)

    # --- one run of one cluster -------------------------------------------------------------------

    def _execute(self, item: QueueItem) -> None:
        req = item.request
        self.git.fetch()  # the protected branch as it is now: what may be applied, and where plans connect to
        protected = self._protected_head()
        if req.mode == "apply":
            outcome = self._apply(item, protected)
        else:
            outcome = self._run(item, replace(req, commit=req.commit or self.git.resolve(req.ref)), protected)
        if outcome == "retry":
            self._retry(item)
        elif outcome == "done":
            self.queue.done(item, self.owner)

    def _apply(self, item: QueueItem, protected: str | None) -> Outcome:
        """Apply the branch head for every event the item answers for, unless an earlier run already covered
        them all; refuse the events naming a commit the branch does not contain."""
        req = item.request
        refusal = self._refusal(req, protected)
        if refusal is not None or protected is None:
            return self._run(item, req, protected, refusal)
        last = self.journal.last_run(req.cluster)
        verdict = judge(item.asks, protected, last[1] if last else None, self.git.is_ancestor)
        for commit in dict.fromkeys(a.commit for a in verdict.refused):
            asks = [a for a in verdict.refused if a.commit == commit]
            self._run(item, replace(req, commit=commit), protected, self._unmerged(commit, protected), asks)
        if verdict.head is None:
            if last is not None and verdict.deliveries:  # a late or repeated delivery: answered by that run
                log.info("run %d (%s) already applied %s", last[0], last[1][:12], ", ".join(verdict.deliveries))
                with self.queue.db.transaction():
                    self.journal.cover(last[0], verdict.deliveries)
                    self.queue.done(item, self.owner)
                return "answered"
            return "done"
        answered = [a for a in item.asks if a not in verdict.refused]  # a retry must not refuse them twice
        self.queue.mark(item, self.owner, verdict.head, answered)
        return self._run(item, replace(req, commit=verdict.head), protected, None, answered)

    def _run(
        self,
        item: QueueItem,
        req: RunRequest,
        protected: str | None,
        refusal: str | None = None,
        asks: list[Ask] | None = None,
    ) -> Outcome:
        """One journaled run of `req` (its commit resolved), or the record of its `refusal`; under the cluster's
        lease, whose fencing token is checked before each step."""
        lease = self.heartbeat.hold(f"cluster:{req.cluster}")
        if lease is None:  # another replica still runs this cluster (its claim lapsed, its lease not yet)
            self.queue.retry_later(item, self.owner, self.queue.lease_seconds / 3, count_attempt=False)
            return "released"
        try:
            return self._leased_run(item, req, protected, refusal, asks, lease)
        finally:
            self.heartbeat.let_go(lease)

    def _leased_run(
        self,
        item: QueueItem,
        req: RunRequest,
        protected: str | None,
        refusal: str | None,
        asks: list[Ask] | None,
        lease: Lease,
    ) -> Outcome:
        run_id = self.journal.start_run(req, deliveries(item.asks if asks is None else asks), self.owner)
        offline = "a pull request from a fork" if req.fork and not self.fork_plans_online else None
        ctx = RunContext(
            self.journal,
            run_id,
            self.git,
            lambda: self._cancelled(item) or self.heartbeat.lost(lease),
            protected_commit=protected,
            offline=offline,
            still_ours=lambda: self.heartbeat.still_ours(lease),
        )
        self.reports.status(ctx, req, "pending", f"{req.mode} running")
        self.reports.notify(ctx, req, "run_started", f"{req.mode} of {req.commit[:12]} ({req.trigger})")
        retry = False
        try:
            if refusal is not None:
                ctx.log(refusal, "error")
                result, outcome = RunResult(ok=False, summary=refusal, error=refusal), "failure"
            else:
                self.git.ensure_commit(req.commit, req.pr_number)
                result = self.run_fn(req, ctx)
                outcome = "success" if result.ok else "failure"
        except Cancelled:
            if self.heartbeat.lost(lease):  # fenced: the cluster and the item are another replica's now
                self.journal.finish_run(
                    run_id, result="interrupted", summary="interrupted: this replica lost its lease"
                )
                return "fenced"
            if self._stop.is_set():  # shutting down: not the run's fault, do it again after the restart
                self.journal.finish_run(run_id, result="interrupted", summary="interrupted: the runner stopped")
                self.queue.release(item, self.owner)
                return "released"
            result, outcome = RunResult(ok=False, summary="cancelled"), "cancelled"
        except Exception as exc:
            retry = isinstance(exc, Transient) and item.attempts < self.retry_limit
            kind = "transient" if isinstance(exc, Transient) else "error"
            result, outcome = RunResult(ok=False, summary=f"{kind}: {exc}", error=str(exc)), "failure"
        self._report(ctx, req, result, outcome)
        return "retry" if retry else "done"

    def _report(self, ctx: RunContext, req: RunRequest, result: RunResult, outcome: str) -> None:
        redact = ctx.redactor
        plan = redact(result.plan_markdown) if result.plan_markdown else None
        self.journal.finish_run(
            ctx.run_id,
            result=outcome,
            summary=redact(result.summary),
            error=redact(result.error) if result.error else None,
            plan_markdown=plan,
            plan_json=redact(result.plan_json) if result.plan_json else None,
        )
        self.reports.finished(ctx, req, result, outcome, plan)

    def _protected_head(self) -> str | None:
        try:
            return self.git.resolve(self.branch)
        except Permanent:
            return None  # no such branch yet: nothing may be applied, plans connect nowhere

    def _refusal(self, req: RunRequest, protected: str | None) -> str | None:
        """Why no apply of this item may run at all: only the fetched protected branch is ever applied."""
        if req.ref not in (self.branch, f"refs/heads/{self.branch}"):  # defence in depth: hooks never queue these
            return f"refused to apply {req.commit[:12]}: ref {req.ref!r} is not the protected branch {self.branch!r}"
        if protected is None:
            return f"refused to apply {req.commit[:12]}: the protected branch {self.branch!r} was not found"
        return None

    def _unmerged(self, commit: str, protected: str) -> str:
        return (
            f"refused to apply {commit[:12]}: it is not on the protected branch {self.branch!r}"
            f" (head {protected[:12]}); only merged commits are applied"
        )

    def _cancelled(self, item: QueueItem) -> bool:
        return self._stop.is_set() or (item.request.mode == "plan" and self.queue.superseded(item))
