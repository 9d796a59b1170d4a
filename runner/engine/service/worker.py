"""Worker threads: take queue items, expand "which clusters?" items, run one cluster at a time.

The reconcile itself is a `RunFn` handed in from outside (the engine's reconcile, or a small one in
tests); the worker owns everything around it: the journal record, commit statuses, the PR comment,
retries of transient failures, and cancellation when the service stops or a plan is superseded.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from dataclasses import replace

from runner.core.errors import Cancelled, Permanent, Transient
from runner.drivers import workdir
from runner.drivers.forge import Forge, StatusState, plan_marker
from runner.drivers.git import GitRepo
from runner.engine.service.journal import Journal
from runner.engine.service.notifications import Event, Notifications
from runner.engine.service.outbox import Outbox
from runner.engine.service.queue import ANY_CLUSTER, QueueItem, RunRequest, WorkQueue
from runner.engine.service.run_context import RunContext, RunFn, RunResult
from runner.engine.service.touched import touched_clusters

log = logging.getLogger(__name__)
DB_PAUSE_MIN, DB_PAUSE_MAX = 0.5, 5.0  # seconds a worker waits after a database error (doubling)


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
    ) -> None:
        self.queue, self.journal, self.git, self.run_fn = queue, journal, git, run_fn
        self.branch, self.clusters_dir, self.flux_dir = branch, clusters_dir, flux_dir
        self.retry_limit, self.retry_backoff = retry_limit, retry_backoff
        self.forge, self.public_url = forge, public_url.rstrip("/")
        self.notifications, self.notify_plans = notifications, notify_plans
        self.outbox = Outbox(queue.db, forge) if forge is not None else None
        self.fork_plans_online = fork_plans_online
        self.owner = uuid.uuid4().hex  # this process's claim on queue items
        self.db_error: str | None = None  # the last database error a thread met, until one succeeds again
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, name=f"worker-{i}", daemon=True) for i in range(threads)]

    def start(self) -> None:
        self.journal.interrupt_running()
        self.queue.requeue_orphans()
        swept = workdir.sweep()  # credentials a killed runner left on disk mid-call
        if swept:
            log.warning("removed %d private work directories left by runners that died mid-call", swept)
        for thread in self._threads:
            thread.start()
        if self.outbox is not None:
            self.outbox.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.queue.notify()
        for thread in self._threads:
            thread.join(timeout)
        if self.notifications is not None:
            self.notifications.close(timeout)  # what the last runs said is still sent
        if self.outbox is not None:
            self.outbox.stop(timeout)

    def alive(self) -> bool:
        return not self._stop.is_set() and all(t.is_alive() for t in self._threads)

    def _loop(self) -> None:
        """Never ends before `stop`: a database error (locked, full, I/O) pauses the thread, never kills it."""
        pause = DB_PAUSE_MIN
        while not self._stop.is_set():
            try:
                self._turn()
                pause = DB_PAUSE_MIN
            except sqlite3.Error as exc:
                self.db_error = str(exc)
                log.warning("worker: database error, retrying in %.1fs: %s", pause, exc)
                self._stop.wait(pause)
                pause = min(pause * 2, DB_PAUSE_MAX)
            except Exception:  # a bug in the loop itself: keep the thread, say why
                log.exception("worker: unexpected error; continuing")
                self._stop.wait(DB_PAUSE_MIN)

    def _turn(self) -> None:
        self.queue.arm()
        item = self.queue.claim(self.owner)
        self.db_error = None
        if item is None:
            self.queue.wait(1.0)  # woken early by enqueue/done; the timeout covers delayed retries
            return
        try:
            if item.request.cluster == ANY_CLUSTER:
                self._expand(item)
            else:
                self._execute(item)
        except Transient:
            self._retry(item)
        except sqlite3.Error:
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
            except sqlite3.Error as exc:
                self.db_error = str(exc)
                self._stop.wait(pause)
                pause = min(pause * 2, DB_PAUSE_MAX)

    def _retry(self, item: QueueItem) -> None:
        if item.attempts < self.retry_limit:
            self.queue.retry_later(item, self.owner, self.retry_backoff * 2**item.attempts)
        else:
            self.queue.done(item, self.owner)

    # --- expansion: which clusters does this event concern? ---------------------------------------

    def _expand(self, item: QueueItem) -> None:
        req = item.request
        if req.commit:
            self.git.ensure_commit(req.commit, req.pr_number)
        else:
            self.git.fetch()
        commit = req.commit or self.git.resolve(req.ref)
        clusters = [e.name for e in self.git.list_dir(commit, self.clusters_dir) if e.kind == "tree"]
        if item.every_cluster:
            chosen = set(clusters)
        elif req.mode == "plan":
            base = self._pr_base(req, commit)
            chosen = touched_clusters(self.git.changed_paths(base, commit), clusters, self.clusters_dir, self.flux_dir)
        else:
            chosen = {c for c in clusters if self._apply_needed(c, commit)}
        for cluster in sorted(chosen):
            self.queue.enqueue(replace(req, cluster=cluster, commit=commit))
        self.queue.done(item, self.owner)

    def _pr_base(self, req: RunRequest, commit: str) -> str | None:
        try:
            target = self.git.resolve(req.base_ref or self.branch)
        except Permanent:
            return None
        return self.git.merge_base(target, commit)

    def _apply_needed(self, cluster: str, commit: str) -> bool:
        # Work already queued or running for this cluster will apply its commit: diff from the newest such commit
        # too, so a burst of pushes does not re-run a cluster that only an earlier commit of the burst touched.
        # The queue is read before the journal: a run leaves the queue only after its result is journaled, so a
        # run finishing between the two reads is seen in one of them, never missed by both.
        queued = self.queue.db.query(
            "SELECT DISTINCT commit_sha FROM queue WHERE cluster = ? AND mode = 'apply' AND commit_sha != ''",
            (cluster,),
        )
        last = self.journal.last_commit(cluster)
        if last is not None and self.git.is_ancestor(commit, last):
            return False  # already applied (a late delivery for an older push)
        base = last
        for row in queued:
            sha = str(row["commit_sha"])
            if self.git.is_ancestor(commit, sha):
                return False  # queued or running work already carries this commit (or a newer one)
            if self.git.is_ancestor(sha, commit) and (base is None or self.git.is_ancestor(base, sha)):
                base = sha
        changed = self.git.changed_paths(base, commit)
        return cluster in touched_clusters(changed, [cluster], self.clusters_dir, self.flux_dir)

    # --- one run of one cluster -------------------------------------------------------------------

    def _execute(self, item: QueueItem) -> None:
        req = item.request
        self.git.fetch()  # the protected branch as it is now: what may be applied, and where plans connect to
        protected = self._protected_head()
        commit = req.commit or self.git.resolve(req.ref)
        req = replace(req, commit=commit)
        run_id = self.journal.start_run(req)
        offline = "a pull request from a fork" if req.fork and not self.fork_plans_online else None
        ctx = RunContext(
            self.journal, run_id, self.git, lambda: self._cancelled(item), protected_commit=protected, offline=offline
        )
        self._status(ctx, req, "pending", f"{req.mode} running")
        self._notify(ctx, req, "run_started", f"{req.mode} of {commit[:12]} ({req.trigger})")
        retry = False
        try:
            self.git.ensure_commit(commit, req.pr_number)
            refusal = self._refusal(req, protected)
            if refusal is not None:
                ctx.log(refusal, "error")
                result, outcome = RunResult(ok=False, summary=refusal, error=refusal), "failure"
            else:
                result = self.run_fn(req, ctx)
                outcome = "success" if result.ok else "failure"
        except Cancelled:
            if self._stop.is_set():  # shutting down: not the run's fault, do it again after the restart
                self.journal.finish_run(run_id, result="interrupted", summary="interrupted: the runner stopped")
                self.queue.release(item, self.owner)
                return
            result, outcome = RunResult(ok=False, summary="cancelled"), "cancelled"
        except Exception as exc:
            retry = isinstance(exc, Transient) and item.attempts < self.retry_limit
            kind = "transient" if isinstance(exc, Transient) else "error"
            result, outcome = RunResult(ok=False, summary=f"{kind}: {exc}", error=str(exc)), "failure"
        redact = ctx.redactor
        plan = redact(result.plan_markdown) if result.plan_markdown else None
        self.journal.finish_run(
            run_id,
            result=outcome,
            summary=redact(result.summary),
            error=redact(result.error) if result.error else None,
            plan_markdown=plan,
            plan_json=redact(result.plan_json) if result.plan_json else None,
        )
        if req.pr_number is not None and outcome != "cancelled":  # comment first: a green status links to it
            self._comment(ctx, req, plan or f"**{req.cluster}**: {redact(result.summary)}")
        state: StatusState = "success" if outcome == "success" else ("error" if outcome == "cancelled" else "failure")
        self._status(ctx, req, state, redact(result.summary))
        if outcome != "cancelled":
            event: Event = "run_succeeded" if outcome == "success" else "run_failed"
            self._notify(ctx, req, event, f"{req.mode} of {commit[:12]}: {result.summary}")
        if result.waiting:
            self._notify(ctx, req, "window_wait", result.waiting)
        if result.snapshot_failed:
            self._notify(ctx, req, "snapshot_failed", result.snapshot_failed)
        if req.trigger == "drift" and result.drift:
            self._notify(ctx, req, "drift_found", "\n".join(result.drift))
        if retry:
            self._retry(item)
        else:
            self.queue.done(item, self.owner)

    def _notify(self, ctx: RunContext, req: RunRequest, event: Event, message: str) -> None:
        # PR plans already speak through their comment and status; people opt in to hearing about them here.
        if self.notifications is not None and (req.mode == "apply" or self.notify_plans):
            self.notifications.notify(event, req.cluster, message, ctx.redactor)

    def _protected_head(self) -> str | None:
        try:
            return self.git.resolve(self.branch)
        except Permanent:
            return None  # no such branch yet: nothing may be applied, plans connect nowhere

    def _refusal(self, req: RunRequest, protected: str | None) -> str | None:
        """Why an apply must not run: only a commit the fetched protected branch contains is ever applied."""
        if req.mode != "apply":
            return None
        if req.ref not in (self.branch, f"refs/heads/{self.branch}"):  # defence in depth: hooks never queue these
            return f"refused to apply {req.commit[:12]}: ref {req.ref!r} is not the protected branch {self.branch!r}"
        if protected is None:
            return f"refused to apply {req.commit[:12]}: the protected branch {self.branch!r} was not found"
        if not self.git.is_ancestor(req.commit, protected):
            return (
                f"refused to apply {req.commit[:12]}: it is not on the protected branch {self.branch!r}"
                f" (head {protected[:12]}); only merged commits are applied"
            )
        return None

    def _cancelled(self, item: QueueItem) -> bool:
        return self._stop.is_set() or (item.request.mode == "plan" and self.queue.superseded(item))

    # Reports go through the durable outbox: tried at once, kept and retried if the forge cannot take them now.
    def _status(self, ctx: RunContext, req: RunRequest, state: StatusState, description: str) -> None:
        if self.outbox is None:
            return
        url = f"{self.public_url}/runs/{ctx.run_id}" if self.public_url else None
        key = self.outbox.status(req.repo, req.commit, state, f"runner/{req.cluster}", description, url)
        waiting = self.outbox.send(key)
        if waiting:  # reporting never fails the run; the journal says why the status is late
            ctx.log(f"forge: status {state} not delivered yet, kept for a retry: {waiting}", "warning")

    def _comment(self, ctx: RunContext, req: RunRequest, body: str) -> None:
        if self.outbox is None or req.pr_number is None:
            return
        key = self.outbox.comment(req.repo, req.pr_number, plan_marker(req.cluster), body)
        waiting = self.outbox.send(key)
        if waiting:
            ctx.log(f"forge: comment on PR #{req.pr_number} not delivered yet, kept for a retry: {waiting}", "warning")
