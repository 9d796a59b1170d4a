"""Which clusters an event concerns: a `*` item becomes per-cluster items, or is found already answered.

An apply event is looked at against the protected branch's head as fetched now (what its runs will apply):
a cluster gets work when the change from what it has (applied, running or queued) to the head touches it.
An event a cluster's last applied commit already contains is recorded on that run and queues nothing; one
that only work already running or queued will carry is handed to that cluster's queue, which answers it
when its turn comes. Everything an item hands on is written in one transaction with its removal, so a
crash never loses an event nor splits one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from runner.core.errors import Permanent
from runner.drivers.git import GitRepo
from runner.engine.service.branch_head import deliveries
from runner.engine.service.journal import Journal
from runner.engine.service.queue import Ask, QueueItem, RunRequest, WorkQueue
from runner.engine.service.touched import touched_clusters

log = logging.getLogger(__name__)


@dataclass
class Handout:
    """What one expansion decides: per-cluster work to queue and deliveries already answered by past runs."""

    work: list[tuple[RunRequest, list[Ask]]] = field(default_factory=list)
    covered: dict[int, list[str]] = field(default_factory=dict)  # run id -> delivery ids its commit contains


class Expansion:
    def __init__(
        self, queue: WorkQueue, journal: Journal, git: GitRepo, branch: str, clusters_dir: str, flux_dir: str
    ) -> None:
        self.queue, self.journal, self.git = queue, journal, git
        self.branch, self.clusters_dir, self.flux_dir = branch, clusters_dir, flux_dir

    def expand(self, item: QueueItem, owner: str) -> None:
        handout = self._apply(item) if item.request.mode == "apply" else self._plan(item)
        with self.queue.db.transaction():
            for request, asks in handout.work:
                self.queue.enqueue(request, asks=asks)
            for run_id, answered in handout.covered.items():
                self.journal.cover(run_id, answered)
            self.queue.done(item, owner)

    def _clusters(self, commit: str) -> list[str]:
        return [e.name for e in self.git.list_dir(commit, self.clusters_dir) if e.kind == "tree"]

    def _touches(self, cluster: str, old: str | None, new: str) -> bool:
        changed = self.git.changed_paths(old, new)
        return cluster in touched_clusters(changed, [cluster], self.clusters_dir, self.flux_dir)

    # --- pull requests: the clusters the PR head changes against its base ----------------------------

    def _plan(self, item: QueueItem) -> Handout:
        req = item.request
        if req.commit:
            self.git.ensure_commit(req.commit, req.pr_number)
        else:
            self.git.fetch()
        commit = req.commit or self.git.resolve(req.ref)
        clusters = self._clusters(commit)
        if not item.every_cluster:
            base = self._pr_base(req, commit)
            clusters = sorted(touched_clusters(self.git.changed_paths(base, commit), clusters, self.clusters_dir))
        return Handout([(replace(req, cluster=c, commit=commit), list(item.asks)) for c in clusters])

    def _pr_base(self, req: RunRequest, commit: str) -> str | None:
        try:
            target = self.git.resolve(req.base_ref or self.branch)
        except Permanent:
            return None
        return self.git.merge_base(target, commit)

    # --- the protected branch: the head as it is now -------------------------------------------------

    def _apply(self, item: QueueItem) -> Handout:
        req = item.request
        self.git.fetch()
        try:
            head = self.git.resolve(self.branch)
        except Permanent:  # no such branch: every named commit goes on to be refused, and says why
            return self._refused(item, list(item.asks), Handout())
        merged = [a for a in item.asks if not a.commit or self.git.is_ancestor(a.commit, head)]
        handout = self._refused(item, [a for a in item.asks if a not in merged], Handout())
        for cluster in self._clusters(head) if merged else []:
            if item.every_cluster:
                handout.work.append((replace(req, cluster=cluster, commit=head), merged))
            else:
                self._route(cluster, head, merged, replace(req, cluster=cluster, commit=head), handout)
        return handout

    def _refused(self, item: QueueItem, asks: list[Ask], handout: Handout) -> Handout:
        """Commits not on the branch: each cluster the commit would change gets a run that refuses it."""
        for ask in asks:
            if not self.git.has_commit(ask.commit):
                log.warning(
                    "delivery %s names commit %r, which %s does not have", ask.delivery, ask.commit, item.request.repo
                )
                continue
            for cluster in self._clusters(ask.commit):
                if self._touches(cluster, self.journal.last_commit(cluster), ask.commit):
                    handout.work.append((replace(item.request, cluster=cluster, commit=ask.commit), [ask]))
        return handout

    def _route(self, cluster: str, head: str, asks: list[Ask], request: RunRequest, handout: Handout) -> None:
        # The queue is read before the journal: a run leaves the queue only after its result is journaled, so a
        # run finishing between the two reads is seen in one of them, never missed by both.
        queued = self.queue.db.query(
            "SELECT state, commit_sha FROM queue WHERE cluster = ? AND mode = 'apply'", (cluster,)
        )
        last = self.journal.last_run(cluster)
        pending = any(row["state"] == "pending" for row in queued)  # it applies the head when claimed: >= `head`
        running = [str(r["commit_sha"]) for r in queued if r["state"] == "running" and r["commit_sha"]]
        base = head if pending else None
        for sha in [*running, *([last[1]] if last else [])]:
            if base is None and self.git.is_ancestor(sha, head):
                base = sha  # the newest of what is applied or being applied (running work is newer)
        if base != head and self._touches(cluster, base, head):
            handout.work.append((request, asks))
            return
        for ask in asks:
            commit = ask.commit or head
            if last is not None and self.git.is_ancestor(commit, last[1]):
                handout.covered.setdefault(last[0], []).extend(deliveries([ask]))
            elif pending or any(self.git.is_ancestor(commit, sha) for sha in running):
                handout.work.append((request, [ask]))  # the queued or running work carries it; answered then
