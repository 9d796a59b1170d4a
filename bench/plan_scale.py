"""Benchmark: derive + plan for 50 and 500 nodes, from nothing and when converged (target: 500 nodes < 200 ms).

Specs are generated from the reference cluster (clusters/home) with 3 controllers and unique names, IPs (in the
/16) and VMIDs, and checked once by the real validator before timing. Each figure is the minimum of a few
repetitions, so one slow scheduler tick does not decide the result.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runner.core.derive import Desired, derive
from runner.core.planner import plan
from runner.core.simulate import apply_plan
from runner.core.spec import Cluster
from runner.core.state import Observed
from runner.core.validate import validate_text

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
    from io import StringIO

    buf = StringIO()
    yaml.dump(data, buf)
    cluster, _warnings = validate_text(buf.getvalue(), "cluster.yaml")
    return cluster


def best_ms(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def converged_state(desired: Desired) -> Observed:
    return apply_plan(Observed(), desired, plan(desired, Observed()))


def main() -> int:
    rows: list[tuple[int, float, float, int, int]] = []
    for n in SIZES:
        cluster = checked_cluster(generated_spec(n))
        desired = derive(cluster, flux_version=FLUX_VERSION)
        converged = converged_state(desired)
        noop = plan(desired, converged)
        if noop.steps:
            print(f"converged plan for {n} nodes is not empty: {[s.id for s in noop.steps][:5]}")
            return 1
        steps = len(plan(desired, Observed()).steps)
        empty_ms = best_ms(lambda c=cluster: plan(derive(c, flux_version=FLUX_VERSION), Observed()))
        conv_ms = best_ms(lambda c=cluster, o=converged: plan(derive(c, flux_version=FLUX_VERSION), o))
        rows.append((n, empty_ms, conv_ms, steps, len(noop.steps)))

    print(f"{'nodes':>6} {'from empty ms':>14} {'converged ms':>13} {'steps':>6} {'no-op steps':>12}")
    for n, empty_ms, conv_ms, steps, noop_steps in rows:
        print(f"{n:>6} {empty_ms:>14.1f} {conv_ms:>13.1f} {steps:>6} {noop_steps:>12}")
    small, large = rows[0], rows[-1]
    print(f"ratio {large[0]}/{small[0]} nodes: from empty {large[1] / small[1]:.1f}x, converged {large[2] / small[2]:.1f}x")
    worst = max(large[1], large[2])
    verdict = "ok" if worst < TARGET_MS else "MISSED"
    print(f"target: {large[0]} nodes derive+plan < {TARGET_MS:.0f} ms (worst {worst:.1f} ms) -> {verdict}")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
