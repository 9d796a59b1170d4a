"""What a run tells the outside: commit statuses and PR comments through the durable outbox, and notifications.

Reporting never fails a run: the outbox keeps what the forge cannot take now and retries it, and the journal
says why a status or comment is late.
"""

from __future__ import annotations

from collections.abc import Callable

from runner.drivers.forge import Forge, StatusState, plan_marker
from runner.engine.service.database import Database
from runner.engine.service.notifications import Event, Notifications
from runner.engine.service.outbox import Outbox
from runner.engine.service.queue import RunRequest
from runner.engine.service.run_context import RunContext, RunResult


class Reports:
    def __init__(
        self,
        db: Database,
        forge: Forge | None,
        public_url: str,
        notifications: Notifications | None,
        notify_plans: bool,
        outbox_duty: Callable[[], bool] | None = None,
    ) -> None:
        self.outbox = Outbox(db, forge, duty=outbox_duty) if forge is not None else None
        self.public_url = public_url.rstrip("/")
        self.notifications, self.notify_plans = notifications, notify_plans

    def start(self) -> None:
        if self.outbox is not None:
            self.outbox.start()

    def stop(self, timeout: float) -> None:
        if self.notifications is not None:
            self.notifications.close(timeout)  # what the last runs said is still sent
        if self.outbox is not None:
            self.outbox.stop(timeout)

    def notify(self, ctx: RunContext, req: RunRequest, event: Event, message: str) -> None:
        # PR plans already speak through their comment and status; people opt in to hearing about them here.
        if self.notifications is not None and (req.mode == "apply" or self.notify_plans):
            self.notifications.notify(event, req.cluster, message, ctx.redactor)

    def status(self, ctx: RunContext, req: RunRequest, state: StatusState, description: str) -> None:
        if self.outbox is None:
            return
        url = f"{self.public_url}/runs/{ctx.run_id}" if self.public_url else None
        key = self.outbox.status(req.repo, req.commit, state, f"runner/{req.cluster}", description, url)
        waiting = self.outbox.send(key)
        if waiting:
            ctx.log(f"forge: status {state} not delivered yet, kept for a retry: {waiting}", "warning")

    def comment(self, ctx: RunContext, req: RunRequest, body: str) -> None:
        if self.outbox is None or req.pr_number is None:
            return
        key = self.outbox.comment(req.repo, req.pr_number, plan_marker(req.cluster), body)
        waiting = self.outbox.send(key)
        if waiting:
            ctx.log(f"forge: comment on PR #{req.pr_number} not delivered yet, kept for a retry: {waiting}", "warning")

    def finished(self, ctx: RunContext, req: RunRequest, result: RunResult, outcome: str, plan: str | None) -> None:
        """Everything a finished run tells the outside: PR comment, commit status, notices (all redacted)."""
        if req.pr_number is not None and outcome != "cancelled":  # comment first: a green status links to it
            self.comment(ctx, req, plan or f"**{req.cluster}**: {ctx.redactor(result.summary)}")
        state: StatusState = "success" if outcome == "success" else ("error" if outcome == "cancelled" else "failure")
        self.status(ctx, req, state, ctx.redactor(result.summary))
        if outcome != "cancelled":
            event: Event = "run_succeeded" if outcome == "success" else "run_failed"
            self.notify(ctx, req, event, f"{req.mode} of {req.commit[:12]}: {result.summary}")
        if result.waiting:
            self.notify(ctx, req, "window_wait", result.waiting)
        if result.snapshot_failed:
            self.notify(ctx, req, "snapshot_failed", result.snapshot_failed)
        if req.trigger == "drift" and result.drift:
            self.notify(ctx, req, "drift_found", "\n".join(result.drift))
