"""The run journal: runs, their steps and their (redacted) log lines, in the service's database."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from runner.engine.service.database import Database
from runner.engine.service.queue import RunRequest

# Results a finished run can have; `interrupted` marks a run the process died in.
RESULTS = ("success", "failure", "cancelled", "interrupted")


@dataclass(frozen=True)
class RunFilter:
    """Which runs a listing shows: each field set narrows it to runs with that value; None matches any."""

    cluster: str | None = None
    mode: str | None = None
    result: str | None = None
    trigger: str | None = None
    pr: int | None = None


class JournalListener(Protocol):
    """Told about finished runs and steps (the server's metrics implement this)."""

    def run_finished(self, result: str) -> None: ...

    def step_finished(self, kind: str, status: str, seconds: float) -> None: ...


class Journal:
    def __init__(self, db: Database, listener: JournalListener | None = None) -> None:
        self.db = db
        self.listener = listener

    def start_run(self, request: RunRequest, deliveries: Iterable[str] = (), owner: str | None = None) -> int:
        """Record that a run of `request` (its commit resolved) has started, covering the webhook `deliveries`
        whose commits its commit contains; returns the run id. `owner`: the replica running it."""
        rows = self.db.query(
            "INSERT INTO runs (cluster, trigger, commit_sha, ref, mode, pr, repo, delivery_id, status, started_at,"
            " deliveries, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?) RETURNING id",
            (
                request.cluster,
                request.trigger,
                request.commit,
                request.ref,
                request.mode,
                request.pr_number,
                request.repo,
                request.delivery_id,
                time.time(),
                json.dumps(list(dict.fromkeys(deliveries))),
                owner,
            ),
        )
        return int(rows[0]["id"])

    def cover(self, run_id: int, deliveries: Iterable[str]) -> None:
        """Deliveries that arrived after `run_id` applied a commit containing theirs: that run answered them."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT deliveries FROM runs WHERE id = ?", (run_id,)).fetchone()
            known = json.loads(row["deliveries"]) if row else []
            merged = list(dict.fromkeys([*known, *deliveries]))
            conn.execute("UPDATE runs SET deliveries = ? WHERE id = ?", (json.dumps(merged), run_id))

    def finish_run(
        self,
        run_id: int,
        *,
        result: str,
        summary: str,
        error: str | None = None,
        plan_markdown: str | None = None,
        plan_json: str | None = None,
    ) -> None:
        assert result in RESULTS, result
        self.db.execute(
            "UPDATE runs SET status = 'finished', result = ?, summary = ?, error = ?, plan_markdown = ?,"
            " plan_json = ?, finished_at = ?"
            " WHERE id = ? AND status = 'running'",
            (result, summary, error, plan_markdown, plan_json, time.time(), run_id),
        )
        if self.listener:
            self.listener.run_finished(result)

    def record_plan(self, run_id: int, plan_json: str) -> None:
        """The plan as soon as it exists, so a running run's page can show it (plans hold no secrets)."""
        self.db.execute("UPDATE runs SET plan_json = ? WHERE id = ?", (plan_json, run_id))

    def interrupt_running(self, owners: Iterable[tuple[str, str | None]] | None = None) -> int:
        """Close the books on runs a dead process left open: every running one, or those of the given
        (cluster, owner) pairs (a replica that died: its queue items were taken back separately)."""
        now = time.time()
        which = " WHERE status = 'running'"
        pairs = [(None, None)] if owners is None else list(owners)
        if owners is not None:
            which += " AND cluster = ? AND owner IS NOT DISTINCT FROM ?"
        count = 0
        with self.db.transaction() as conn:
            for pair in pairs:
                params = () if owners is None else pair
                conn.execute(
                    "UPDATE steps SET status = 'interrupted', finished_at = ? WHERE status = 'running'"
                    f" AND run_id IN (SELECT id FROM runs{which})",
                    (now, *params),
                )
                cur = conn.execute(
                    "UPDATE runs SET status = 'finished', result = 'interrupted', finished_at = ?,"
                    f" summary = 'interrupted: the runner stopped during this run'{which}",
                    (now, *params),
                )
                count += cur.rowcount
        return count

    def start_step(self, run_id: int, step_id: str, kind: str, message: str = "") -> None:
        self.db.execute(
            "INSERT INTO steps (run_id, step_id, kind, status, started_at, message) VALUES (?, ?, ?, 'running', ?, ?)"
            " ON CONFLICT(run_id, step_id) DO UPDATE SET status = 'running', started_at = excluded.started_at",
            (run_id, step_id, kind, time.time(), message),
        )

    def finish_step(self, run_id: int, step_id: str, status: str, message: str = "") -> None:
        now = time.time()
        rows = self.db.query("SELECT kind, started_at FROM steps WHERE run_id = ? AND step_id = ?", (run_id, step_id))
        self.db.execute(
            "UPDATE steps SET status = ?, finished_at = ?, message = ? WHERE run_id = ? AND step_id = ?",
            (status, now, message, run_id, step_id),
        )
        if rows and self.listener:
            self.listener.step_finished(str(rows[0]["kind"]), status, now - float(rows[0]["started_at"]))

    def log(self, run_id: int, line: str, level: str = "info") -> None:
        self.db.execute(
            "INSERT INTO logs (run_id, ts, level, line) VALUES (?, ?, ?, ?)", (run_id, time.time(), level, line)
        )

    # --- reading ---------------------------------------------------------------------------------

    def runs(self, where: RunFilter | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first, at most `limit`."""
        conditions, params = [], []
        for column, value in asdict(where or RunFilter()).items():
            if value is not None:
                conditions.append(f"{column} = ?")  # column names are RunFilter's fields, never input
                params.append(value)
        clause = " WHERE " + " AND ".join(conditions) if conditions else ""
        rows = self.db.query(f"SELECT * FROM runs{clause} ORDER BY id DESC LIMIT ?", (*params, limit))
        return [_decoded(row) for row in rows]

    def run(self, run_id: int) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            return None
        run = _decoded(rows[0])
        run["steps"] = self.db.query("SELECT * FROM steps WHERE run_id = ? ORDER BY started_at, step_id", (run_id,))
        run["logs"] = self.db.query("SELECT ts, level, line FROM logs WHERE run_id = ? ORDER BY id", (run_id,))
        return run

    def last_commit(self, cluster: str, mode: str = "apply", results: tuple[str, ...] = ("success",)) -> str | None:
        last = self.last_run(cluster, mode, results)
        return last[1] if last else None

    def last_run(
        self, cluster: str, mode: str = "apply", results: tuple[str, ...] = ("success",)
    ) -> tuple[int, str] | None:
        """(run id, commit) of the cluster's newest run with one of `results`: by default its last applied commit."""
        marks = ",".join("?" * len(results))
        rows = self.db.query(
            f"SELECT id, commit_sha FROM runs WHERE cluster = ? AND mode = ? AND result IN ({marks})"
            " ORDER BY id DESC LIMIT 1",
            (cluster, mode, *results),
        )
        return (int(rows[0]["id"]), str(rows[0]["commit_sha"])) if rows else None

    def clusters(self) -> list[dict[str, Any]]:
        """Every cluster the journal knows, with its latest run and its last applied commit."""
        rows = self.db.query(
            "SELECT r.* FROM runs r JOIN (SELECT cluster, MAX(id) AS id FROM runs GROUP BY cluster) m ON r.id = m.id"
            " ORDER BY r.cluster"
        )
        return [
            {"name": row["cluster"], "last_run": _decoded(row), "last_applied_commit": self.last_commit(row["cluster"])}
            for row in rows
        ]


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    """A runs row as the API shows it: `deliveries` as a list of delivery ids."""
    return {**row, "deliveries": json.loads(row.get("deliveries") or "[]")}
