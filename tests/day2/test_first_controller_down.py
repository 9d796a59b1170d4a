"""The first controller goes down: the runner goes on through the others and never bootstraps again.

The first controller in spec order is the one `bootstrap` ran on, and it leads every node list the runner
asks Talos for. Losing it must cost neither the reconcile nor the cluster: a `bootstrap` planned because
that node did not answer would, on a reinstalled disk, start a second etcd beside the one the others keep.
A controller that crashed (its VM runs, Talos answers nothing) is awaited and reported by name, never
configured again; changes elsewhere converge through the controllers that answer, health checks and etcd
snapshots included, and the controllers that answer keep etcd's quorum: none of them is taken down meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from runner.cli.lab.session import LabSession
from runner.cli.main import app
from tests.day2.conftest import bootstrapped_lab, drift_run, plan_of, proxmox, push_change, steps_of
from tests.e2e.labkit import describe, run_details, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-first-controller")]  # one lab, in order
FIRST = "10.0.0.11"  # talos-cp-01, VM 300
CONTROLLERS = {FIRST, "10.0.0.12", "10.0.0.13"}
WORKERS = ("10.0.0.21", "10.0.0.22")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    # A node that never comes back is given up on after 15 s; snapshots go to this lab's own directory.
    workdir = tmp_path_factory.mktemp("first-controller")
    with bootstrapped_lab(workdir, boot_timeout=15, backup_dir=workdir / "backups") as session:
        yield session


def kinds_and_targets(lab: LabSession, run: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["kind"], s["target"]) for s in plan_of(lab, run)["steps"]]  # type: ignore[attr-defined]


def etcd_members(lab: LabSession) -> set[str]:
    talos = lab.world.talos.lab
    with talos.lock:
        return {m.ip for members in talos.etcd.values() for m in members.values()}


def step_outcomes(lab: LabSession, run: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {s["step_id"]: (s["status"], s["message"]) for s in run_details(lab, run)["steps"]}


def node_config(lab: LabSession, ip: str) -> str:
    node = lab.world.talos.lab.nodes[ip]
    assert node.config is not None
    return node.config.raw


def test_a_stopped_first_controller_is_started_again_never_bootstrapped(lab: LabSession) -> None:
    proxmox(lab).stop_vm("atlas", 300)  # someone stops it in the Proxmox UI
    run = drift_run(lab)
    assert run["result"] == "success", describe(run)
    planned = kinds_and_targets(lab, run)
    assert ("start_vm", "vm/300") in planned
    assert [target for kind, target in planned if kind == "bootstrap"] == []
    assert "cluster/bootstrap" not in steps_of(lab, run)
    assert etcd_members(lab) == CONTROLLERS


def assert_awaited_not_configured(lab: LabSession, run: dict[str, Any]) -> None:
    """talos-cp-01 got its one look and a clear word, and nothing that configures or bootstraps it."""
    planned = kinds_and_targets(lab, run)
    assert ("await_node", "node/talos-cp-01") in planned, planned
    assert not [(k, t) for k, t in planned if t == "node/talos-cp-01" and k != "await_node"], planned
    assert "bootstrap" not in [kind for kind, _ in planned]
    status, message = step_outcomes(lab, run)["node/talos-cp-01/await"]
    assert status == "waiting" and message.startswith("talos-cp-01 (10.0.0.11) still does not answer"), message
    assert "talos-cp-01 (10.0.0.11) still does not answer" in run["summary"], describe(run)


def test_with_the_first_controller_crashed_changes_converge_through_the_others(lab: LabSession) -> None:
    lab.world.talos.power(FIRST, False)  # its VM runs on, Talos answers no more (a kernel panic, say)
    try:
        # A worker's memory: drained through the VIP, resized, rebooted, uncordoned. No boot timeout waited out.
        resized = push_change(lab, "memory: 16384", "memory: 20480", "more memory for talos-worker-01")
        assert resized["result"] == "success", describe(resized)
        assert_awaited_not_configured(lab, resized)
        done = steps_of(lab, resized)
        assert done.index("node/talos-worker-01/drain") < done.index("vm/303/update"), done
        assert lab.world.proxmox_state.vms[303].effective().get("memory") == "20480"

        # Backups switched on: the first scheduled snapshot comes from a controller that answers.
        backups = push_change(lab, "\nflux:", "\nbackups:\n  every: 6h\n  keep: 3\n\nflux:", "back up etcd every 6h")
        assert backups["result"] == "success", describe(backups)
        api = f"{lab.settings.public_url}/api/backups"
        scheduled = httpx.get(api, timeout=10).json()["backups"]
        assert [(b["reason"], b["controller"]) for b in scheduled] == [("schedule", "talos-cp-02")], scheduled
        # And one on demand, as an operator takes it before touching anything.
        env = {"RUNNER_CONFIG": str(lab.config_file), "RUNNER_BACKUP_DIR": str(lab.settings.backup_dir)}
        taken = CliRunner().invoke(app, ["backup", "now", str(lab.clone / "clusters/home")], env=env)
        assert taken.exit_code == 0, taken.output
        listed = httpx.get(api, timeout=10).json()["backups"]
        assert (listed[0]["reason"], listed[0]["controller"]) == ("manual", "talos-cp-02"), listed

        # Every node's config changes (the tailscale extension's login server): the workers get theirs, cluster
        # health is read through cp-02, and cp-02 and cp-03 wait (taking one down now would cost etcd's quorum).
        login = push_change(lab, "headscale.example.net", "hs.example.net", "another headscale")
        assert login["result"] == "success", describe(login)
        assert_awaited_not_configured(lab, login)
        outcomes = step_outcomes(lab, login)
        assert outcomes["cluster/healthy"][0] == "succeeded", outcomes
        assert all("https://hs.example.net" in node_config(lab, ip) for ip in WORKERS)
        assert not any("https://hs.example.net" in node_config(lab, ip) for ip in CONTROLLERS)
        notes = " ".join(plan_of(lab, login)["notes"])  # type: ignore[arg-type]
        assert "talos-cp-02 waits while talos-cp-01 does not answer" in notes, notes
        assert etcd_members(lab) == CONTROLLERS  # still a member: it is down, not gone
    finally:
        lab.world.talos.power(FIRST, True)  # it reboots
    wait_until(lambda: lab.world.talos.phase(FIRST) == "running", "talos-cp-01 running again", timeout=60)
    # Back: the next run gives every controller its config, one at a time, after a snapshot.
    converged = drift_run(lab)
    assert converged["result"] == "success", describe(converged)
    planned = kinds_and_targets(lab, converged)
    assert "bootstrap" not in [kind for kind, _ in planned] and "await_node" not in [kind for kind, _ in planned]
    assert all("https://hs.example.net" in node_config(lab, ip) for ip in CONTROLLERS)
    assert etcd_members(lab) == CONTROLLERS
    assert kinds_and_targets(lab, drift_run(lab)) == []
