"""Benchmark: derive + machine configs + plan for 50 and 500 nodes, from nothing and converged (target: 500 < 200 ms).

Every figure includes rendering each node's Talos machine config (documents, hash, redacted copy for diffs):
a reconcile needs them before it can plan, so a plan is not ready any sooner.

Specs are generated from the reference cluster (clusters/home) with 3 controllers and unique names, IPs (in the
/16) and VMIDs, and checked once by the real validator before timing. Each figure is the minimum of a few
repetitions, in wall and in CPU time (see `best_ms`).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from functools import partial
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runner.core.cluster_secrets import ClusterSecrets
from runner.core.derive import Desired, derive
from runner.core.planner import plan
from runner.core.secret import Secret
from runner.core.simulate import apply_plan
from runner.core.spec import Cluster
from runner.core.state import Observed
from runner.core.talos import SecretsBundle, generate_bundle
from runner.core.validate import validate_text
from runner.engine.configs import node_configs, with_config_hashes

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "clusters/home/cluster.yaml"
SIZES = (50, 500)
REPEATS = 5
TARGET_MS = 200.0
FLUX_VERSION = "v2.bench"


def node_entry(i: int, controllers: int = 3) -> dict[str, Any]:
    """Node i of a generated cluster: controllers first; addresses 10.0.1.10 upwards, clear of gateway and VIP."""
    role = "controlplane" if i < controllers else "worker"
    name = f"talos-cp-{i + 1:03d}" if i < controllers else f"talos-worker-{i - controllers + 1:04d}"
    ip = f"10.0.{1 + i // 200}.{10 + i % 200}"
    return {"name": name, "role": role, "ip": ip, "vmid": 1000 + i, "cores": 2, "memory": 4096, "diskGb": 32}


def generated_spec(n: int) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(REFERENCE.read_text())
    data["nodes"] = [node_entry(i) for i in range(n)]
    return data


def checked_cluster(data: dict[str, Any]) -> Cluster:
    """Validate through the same loader `runner validate` uses, so the benchmark plans only valid specs."""
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    buf = StringIO()
    yaml.dump(data, buf)
    cluster, _warnings = validate_text(buf.getvalue(), "cluster.yaml")
    return cluster


def best_ms(fn: Callable[[], object], repeats: int = REPEATS) -> tuple[float, float]:
    """(wall, CPU) milliseconds, each the minimum over `repeats` runs.

    Planning is single-threaded and CPU-bound, so on an idle machine both agree; the CPU figure is what
    the target is checked against because it does not grow when other processes share the cores.
    """
    wall = cpu = float("inf")
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return wall * 1000, cpu * 1000


SECRETS = ClusterSecrets("root@pam!bench", Secret("bench-token-secret"), Secret("tskey-auth-bench"), None, None, None)


def desired_with_configs(cluster: Cluster, bundle: SecretsBundle) -> Desired:
    """What a reconcile plans with: the derived state plus every node's rendered machine config."""
    base = derive(cluster, flux_version=FLUX_VERSION)
    return with_config_hashes(base, node_configs(cluster, base, SECRETS, bundle))


def derive_and_plan(cluster: Cluster, bundle: SecretsBundle, observed: Observed) -> object:
    return plan(desired_with_configs(cluster, bundle), observed)


def converged_state(desired: Desired) -> Observed:
    return apply_plan(Observed(), desired, plan(desired, Observed()))


def main() -> int:
    rows: list[tuple[int, str, float, float, int]] = []
    bundle = generate_bundle(dt.datetime.now(dt.UTC))
    for n in SIZES:
        cluster = checked_cluster(generated_spec(n))
        desired = desired_with_configs(cluster, bundle)
        converged = converged_state(desired)
        noop = plan(desired, converged)
        if noop.steps:
            print(f"converged plan for {n} nodes is not empty: {[s.id for s in noop.steps][:5]}")
            return 1
        for label, observed in (("from empty", Observed()), ("converged", converged)):
            steps = len(plan(desired, observed).steps)
            wall, cpu = best_ms(partial(derive_and_plan, cluster, bundle, observed))
            rows.append((n, label, wall, cpu, steps))

    print(f"derive + machine configs + plan, min of {REPEATS} runs")
    print(f"{'nodes':>6} {'observed':>11} {'wall ms':>8} {'cpu ms':>8} {'steps':>6}")
    for n, label, wall, cpu, steps in rows:
        print(f"{n:>6} {label:>11} {wall:>8.1f} {cpu:>8.1f} {steps:>6}")
    by_size = {(n, label): cpu for n, label, _, cpu, _ in rows}
    small, large = SIZES[0], SIZES[-1]
    for label in ("from empty", "converged"):
        print(f"ratio {large}/{small} nodes, {label}: {by_size[large, label] / by_size[small, label]:.1f}x")
    worst = max(cpu for n, _, _, cpu, _ in rows if n == large)
    verdict = "ok" if worst < TARGET_MS else "MISSED"
    print(f"target: {large} nodes derive+configs+plan < {TARGET_MS:.0f} ms (worst {worst:.1f} ms CPU) -> {verdict}")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
