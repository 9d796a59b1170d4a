"""A runner killed right after `bootstrap` never bootstraps a second time.

A real `runner apply` process brings the lab's cluster up to the bootstrap; the first controller acts on the
call but its answer is slow to come back, and the process is killed with SIGKILL (with its talosctl) while it
waits: etcd was bootstrapped, the runner recorded no such thing. etcd starts slowly, as Talos' does: the
service is Preparing, then Running without health, and the member list answers "context deadline exceeded".
The runner that picks the cluster up again must read that as "starting", wait for it, and finish the
cluster; the node twins count every Bootstrap call they receive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.cli.lab.session import LabSession
from runner.drivers.workdir import WORK_DIR_ENV

from .labkit import describe, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("bootstrap-kill")]
FIRST = "10.0.0.11"


def start_apply(session: LabSession) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "runner"
    env = {**os.environ, "RUNNER_CONFIG": str(session.config_file), "COLUMNS": "200"}
    log = (session.workdir / "killed-apply.log").open("wb")
    return subprocess.Popen(
        [str(exe), "apply", "clusters/home"], cwd=session.clone, env=env, stdout=log, stderr=log, start_new_session=True
    )


def test_a_kill_9_right_after_bootstrap_gives_exactly_one_bootstrap_call(
    make_lab: Callable[..., LabSession], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WORK_DIR_ENV, str(tmp_path / "work"))  # this test's runners' own private root
    session = make_lab()
    session.seed_clone()
    talos = session.world.talos
    with talos.lab.lock:
        talos.lab.delays.etcd_bootstrap = 1.0  # pre-start in bootstrap mode: Preparing
        talos.lab.delays.etcd_start = 15.0  # then Running, not serving: the member list times out
    talos.set_faults(FIRST, late_replies={"bootstrap": 120.0})
    proc = start_apply(session)
    try:
        wait_until(lambda: talos.lab.bootstrap_calls, "the bootstrap call", timeout=240)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and its talosctl, as a crash of the host would
        proc.wait(10)
    assert talos.lab.bootstrap_calls == [FIRST]
    assert session.store.get("home").bootstrapped_at is None  # the crash came before the record
    talos.set_faults(FIRST)  # the network is well again

    commit = session.push()  # the runner service picks the cluster up
    run = session.wait_for_run(commit, timeout=300)  # a bound for a broken run, not a speed target
    assert run["result"] == "success", describe(run)
    assert talos.lab.bootstrap_calls == [FIRST], "bootstrap was called once, by the run that was killed"
    with talos.lab.lock:
        members = {m.ip for cluster in talos.lab.etcd.values() for m in cluster.values()}
    assert members == {"10.0.0.11", "10.0.0.12", "10.0.0.13"} and len(talos.lab.etcd) == 1
