"""Prometheus metrics of one service instance (own registry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from runner.engine.service.journal import RESULTS
from runner.engine.service.queue import WorkQueue

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self, queue: WorkQueue) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter("runs", "Finished runs by result", ["result"], registry=self.registry)
        self.step_duration = Histogram(
            "step_duration_seconds",
            "Duration of run steps",
            ["kind", "status"],
            registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, float("inf")),
        )
        self.queue_depth = Gauge("queue_depth", "Pending queue items", registry=self.registry)
        self.queue_depth.set_function(queue.depth)  # read at scrape time: always the durable truth
        self.webhook_rejections = Counter(
            "webhook_rejections", "Webhooks refused, by reason", ["reason"], registry=self.registry
        )
        self.webhook_deliveries = Counter(
            "webhook_deliveries",
            "Webhooks accepted, by source and outcome",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.webhook_seconds = Histogram(
            "webhook_handling_seconds",
            "Time to answer a webhook",
            ["source"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, float("inf")),
        )
        for result in RESULTS:  # export zeros, so dashboards see every series from the start
            self.runs.labels(result)
        for reason in ("missing_signature", "bad_signature", "too_large", "bad_payload"):
            self.webhook_rejections.labels(reason)

    # JournalListener
    def run_finished(self, result: str) -> None:
        self.runs.labels(result).inc()

    def step_finished(self, kind: str, status: str, seconds: float) -> None:
        self.step_duration.labels(kind, status).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
