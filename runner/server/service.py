"""The service's moving parts wired together: database, queue, journal, worker, timers, metrics."""

from __future__ import annotations

from dataclasses import dataclass

from runner.drivers.forge import Forge, make_forge
from runner.drivers.git import GitAuth, GitRepo
from runner.drivers.notify import AppriseNotifier
from runner.engine.service.database import Database, open_database
from runner.engine.service.journal import Journal
from runner.engine.service.notifications import Notifications
from runner.engine.service.queue import WorkQueue
from runner.engine.service.run_context import RunFn
from runner.engine.service.settings import Settings
from runner.engine.service.worker import Worker
from runner.server.deliveries import Deliveries
from runner.server.events import Target
from runner.server.metrics import Metrics
from runner.server.scheduler import Scheduler


@dataclass
class Service:
    settings: Settings
    db: Database
    queue: WorkQueue
    journal: Journal
    deliveries: Deliveries
    metrics: Metrics
    worker: Worker
    scheduler: Scheduler
    target: Target
    # The webhook intake has its own connection: a delivery waits on the database at most
    # db_busy_timeout, never also behind a worker that is itself waiting on a lock (then: 503).
    intake_db: Database
    intake_queue: WorkQueue

    def start(self) -> None:
        self.worker.start()
        self.scheduler.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.scheduler.stop(timeout)
        self.worker.stop(timeout)

    def ready(self) -> dict[str, bool]:
        """Can the service take work now? The database check is the intake's: what a webhook would meet."""
        checks = {"database": self.intake_db.writable(), "worker": self.worker.alive()}
        return checks | {"scheduler": self.scheduler.alive()}


def git_auth(settings: Settings) -> GitAuth:
    return GitAuth(
        username=settings.git_username,
        token=settings.git_token,
        ssh_key=settings.git_ssh_key,
        ssh_pubkey=settings.git_ssh_pubkey,
        ssh_passphrase=settings.git_ssh_passphrase,
    )


def notifications(settings: Settings) -> Notifications | None:
    if not settings.notify_urls:
        return None
    return Notifications(AppriseNotifier(settings.notify_urls), settings.notify_events)


def build_service(settings: Settings, run_fn: RunFn, forge: Forge | None = None) -> Service:
    db = open_database(settings.store_url, settings.db_busy_timeout)  # schema migrations run here
    queue = WorkQueue(db, lease_seconds=settings.lease_seconds)
    metrics = Metrics(queue)
    journal = Journal(db, listener=metrics)
    auth = git_auth(settings)
    git = GitRepo(settings.repo_url, settings.cache_dir, auth)
    if forge is None:
        forge = make_forge(settings.forge_kind, settings.forge_url, settings.forge_token, settings.forge_bot_login)
    worker = Worker(
        queue=queue,
        journal=journal,
        git=git,
        run_fn=run_fn,
        branch=settings.branch,
        clusters_dir=settings.clusters_dir,
        flux_dir=settings.flux_dir,
        threads=settings.workers,
        retry_limit=settings.retry_limit,
        retry_backoff=settings.retry_backoff,
        forge=forge,
        public_url=settings.public_url,
        notifications=notifications(settings),
        notify_plans=settings.notify_plans,
        fork_plans_online=settings.fork_plans_online,
    )
    scheduler = Scheduler(
        queue=queue,
        db=db,
        url=settings.repo_url,
        auth=auth,
        branch=settings.branch,
        repo=settings.full_name,
        drift_interval=settings.drift_interval,
        poll_interval=settings.poll_interval,
        duty=lambda: worker.heartbeat.duty("timers"),  # drift and poll fire on one replica, not on each
    )
    target = Target(full_name=settings.full_name, url=settings.repo_url, branch=settings.branch)
    intake_db = open_database(settings.store_url, settings.db_busy_timeout, durable=True)
    deliveries = Deliveries(intake_db)
    return Service(
        settings, db, queue, journal, deliveries, metrics, worker, scheduler, target, intake_db, queue.on(intake_db)
    )
