"""Benchmark: one no-op reconcile of a converged lab cluster of 5 and of 50 nodes.

Each size is a real lab (every twin on loopback, the runner service, a git push) brought to the Flux hand-off
by the runner itself. Then more reconciles of the same commit run through the engine exactly as a drift run
does (REPEATS of them: the wall time is the fastest, since one run on a shared machine is mostly noise; the
counts are the largest of any), and we count what each cost: Proxmox API calls (the twin's call log),
talosctl processes (a wrapper around the lab's talosctl logs each start) and Kubernetes API requests (the
twin's request log).

Targets: 50-node wall time <= 2x the 5-node one; at most 2 Proxmox calls, 4 talosctl processes and
4 Kubernetes requests at either size.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plan_scale import node_entry
from ruamel.yaml import YAML

from runner.cli.lab.session import LabSession
from runner.core.secret import Redactor
from runner.engine.reconcile.outcome import NullReporter
from runner.engine.reconcile.source import DirSource
from runner.lab.world_inputs import Pace

ROOT = Path(__file__).resolve().parents[1]
SIZES = (5, 50)
REPEATS = 5
RATIO_TARGET = 2.0
LIMITS = {"proxmox": 2, "talosctl": 4, "kubernetes": 4}
SETTINGS: dict[str, Any] = {"boot_timeout": 180, "flux_timeout": 180, "max_parallel_steps": 8}


@dataclass
class NoopCost:
    nodes: int
    seconds: float
    proxmox: list[str]
    talosctl: list[str]
    kubernetes: list[str]
    summary: str


def spec_with(n: int) -> str:
    """clusters/home with its 5 nodes plus generated workers up to n (addresses 10.0.1.x, VMIDs 1000+)."""
    yaml = YAML()
    data = yaml.load((ROOT / "clusters/home/cluster.yaml").read_text())
    for i in range(len(data["nodes"]), n):
        data["nodes"].append(node_entry(i, controllers=0))
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def count_talosctl(session: LabSession, log: Path) -> None:
    """Put a counting wrapper where the runner's talosctl path points (the lab's shim moves aside)."""
    shim = Path(session.settings.talosctl_path)
    real = shim.with_name("talosctl-real")
    shim.rename(real)
    shim.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)


def converged(n: int, workdir: Path) -> LabSession:
    session = LabSession(ROOT, workdir, pace=Pace.fast(), settings_overrides=SETTINGS).start()
    session.seed_clone()
    if n != 5:
        session.commit({"clusters/home/cluster.yaml": spec_with(n)}, f"{n} nodes")
    commit = session.push()
    run = session.wait_for_run(commit, timeout=900)
    if run["result"] != "success":
        session.stop()
        raise SystemExit(f"{n} nodes did not converge: {run['summary']} / {run['error']}")
    return session


def noop_cost(n: int, workdir: Path) -> NoopCost:
    session = converged(n, workdir)
    try:
        log = workdir / "talosctl.log"
        count_talosctl(session, log)
        costs = [one_noop(n, session, log) for _ in range(REPEATS)]
    finally:
        session.stop()
    return NoopCost(
        n,
        min(c.seconds for c in costs),
        max((c.proxmox for c in costs), key=len),
        max((c.talosctl for c in costs), key=len),
        max((c.kubernetes for c in costs), key=len),
        costs[-1].summary,
    )


def one_noop(n: int, session: LabSession, log: Path) -> NoopCost:
    log.unlink(missing_ok=True)
    session.world.proxmox_state.calls.reset()
    session.world.kube_twin.requests.clear()
    started = time.perf_counter()
    outcome = session.engine.reconcile(
        DirSource(session.clone), "home", apply=True, reporter=NullReporter(), redactor=Redactor()
    )
    seconds = time.perf_counter() - started
    if not outcome.ok or outcome.plan is None or outcome.plan.steps:
        raise SystemExit(f"{n} nodes: the reconcile was not a no-op: {outcome.summary()} {outcome.error or ''}")
    return NoopCost(
        n,
        seconds,
        [f"{c.method} {c.path}" for c in session.world.proxmox_state.calls.matching()],
        log.read_text().splitlines() if log.exists() else [],
        list(session.world.kube_twin.requests),
        outcome.summary(),
    )


def talosctl_command(run: str) -> str:
    words = run.split()
    return " ".join(words[words.index("-n") + 2 :]) if "-n" in words else run


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-noop-") as tmp:
        costs = [noop_cost(n, Path(tmp) / f"n{n}") for n in SIZES]
    print(f"no-op reconciles of a converged lab cluster (the runner brought it to the hand-off), best of {REPEATS}")
    print(f"{'nodes':>6} {'seconds':>8} {'proxmox':>8} {'talosctl':>9} {'kubernetes':>11}  result")
    for c in costs:
        counts = f"{len(c.proxmox):>8} {len(c.talosctl):>9} {len(c.kubernetes):>11}"
        print(f"{c.nodes:>6} {c.seconds:>8.2f} {counts}  {c.summary}")
    for c in costs:
        print(f"  {c.nodes} nodes: proxmox {c.proxmox}")
        print(f"  {c.nodes} nodes: talosctl {sorted(talosctl_command(r) for r in c.talosctl)}")
        print(f"  {c.nodes} nodes: kubernetes {c.kubernetes}")
    small, large = costs[0], costs[-1]
    ratio = large.seconds / small.seconds
    print(f"ratio {large.nodes}/{small.nodes} nodes wall time: {ratio:.2f}x")
    within = all(len(getattr(c, k)) <= limit for c in costs for k, limit in LIMITS.items())
    ok = ratio <= RATIO_TARGET and within
    limits = ", ".join(f"{k} <= {v}" for k, v in LIMITS.items())
    print(f"target: ratio <= {RATIO_TARGET:g}x ({ratio:.2f}x) and {limits} at every size -> {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
