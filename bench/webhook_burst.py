"""Benchmark: 100 signed push deliveries for one cluster in a burst -> how many reconciles? (target <= 2)

Serves the real app on loopback against a throwaway lab repository, fires the deliveries as fast as one
client can, waits for the queue to drain and prints deliveries, runs and webhook latency percentiles.
`--postgres`: two replicas of the app share a throwaway PostgreSQL (the postgresql package's binaries) and
the deliveries alternate between them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from runner.engine.service.journal import RunFilter
from runner.engine.service.queue import RunRequest
from runner.engine.service.run_context import RunContext, RunResult
from runner.lab.gitserver import LabGitServer, commit_files
from runner.lab.serve import serve_in_thread
from runner.server import create_app
from runner.server.signatures import sign
from tests.app_settings import settings_under
from tests.pg import throwaway_postgres

DELIVERIES = 100
SECRET = "bench-webhook-secret"


def slow_run(request: RunRequest, ctx: RunContext) -> RunResult:
    ctx.git.read_file(request.commit, f"clusters/{request.cluster}/cluster.yaml")
    time.sleep(0.2)  # a reconcile takes a while; the burst lands while it is in flight
    return RunResult(ok=True, summary="ok")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="two replicas on one throwaway PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp, contextlib.ExitStack() as stack:
        root = Path(tmp)
        lab = LabGitServer(root / "git", full_name="lab/home").create()
        source = root / "seed" / "clusters" / "home"
        source.mkdir(parents=True)
        (source / "cluster.yaml").write_text("name: home\n")
        lab.seed(root / "seed")
        work = lab.clone(root / "work")
        commits = [commit_files(work, {"clusters/home/cluster.yaml": f"rev: {i}\n"}, f"rev {i}") for i in range(10)]
        lab.push(work)
        extra: dict[str, object] = {}
        if args.postgres:
            extra = {"database_url": stack.enter_context(throwaway_postgres()).new_database(), "lease_seconds": 5.0}
        apps = []
        for name in ("a", "b") if args.postgres else ("a",):
            (root / name).mkdir()
            apps.append(
                create_app(settings_under(root / name, repo_url=lab.url, webhook_secret=SECRET, **extra), slow_run)
            )
        servers = [serve_in_thread(app) for app in apps]
        latencies: list[float] = []
        try:
            clients = [stack.enter_context(httpx.Client(base_url=server.url)) for server in servers]
            for i in range(DELIVERIES):
                body = json.dumps(
                    {
                        "ref": "refs/heads/main",
                        "after": commits[min(i // 10, 9)],
                        "repository": {"full_name": "lab/home"},
                        "commits": [],
                    }
                ).encode()
                headers = {
                    "X-GitHub-Event": "push",
                    "X-GitHub-Delivery": str(uuid.uuid4()),
                    "X-Hub-Signature-256": "sha256=" + sign(SECRET, body),
                }
                started = time.perf_counter()
                reply = clients[i % len(clients)].post("/hooks/github", content=body, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                assert reply.status_code == 202, reply.text
            service = apps[0].state.service  # with replicas, one store: any of them sees every run
            deadline = time.monotonic() + 60
            while (service.queue.items() or any(r["status"] == "running" for r in service.journal.runs())) and (
                time.monotonic() < deadline
            ):
                time.sleep(0.05)
            runs = [r for r in service.journal.runs(RunFilter(cluster="home"), limit=500) if r["status"] == "finished"]
            owners = {r["owner"] for r in runs}
        finally:
            for server in servers:
                server.stop()
    q = statistics.quantiles(latencies, n=100)
    store = "postgresql, 2 replicas" if args.postgres else "sqlite, 1 process"
    print(f"store: {store}")
    print(f"deliveries: {DELIVERIES}")
    print(f"runs: {len(runs)} (target <= 2) ratio {len(runs) / DELIVERIES:.3f}, by {len(owners)} replica(s)")
    print(f"webhook latency ms: p50 {q[49]:.2f} p99 {q[98]:.2f}")
    print(f"target: <= 2 runs -> {'ok' if len(runs) <= 2 else 'MISSED'}")
    return 0 if len(runs) <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
