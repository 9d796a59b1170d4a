"""One controller down (its VM runs, Talos answers nothing): health, the crashed node's step, the executor and
etcd recovery go through the controllers that answer (scripted drivers, no lab)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.core.errors import Transient, Waiting
from runner.core.steps import Kind, Plan, Step
from runner.drivers.age import encrypt_to, find_or_create_key
from runner.engine.commands.recovery import recover_etcd
from runner.engine.reconcile.backups import BackupInfo
from runner.engine.reconcile.clusterstate import ClusterStateStore, ConfigSeen
from runner.engine.reconcile.etcd_snapshots import Controller
from runner.engine.reconcile.executor import ExecResult, execute
from runner.engine.reconcile.outcome import NullReporter, Outcome
from runner.engine.reconcile.waits import wait_until
from tests.engine.scripted import ScriptedProxmox
from tests.engine.test_handlers import CONTROLLERS, runner_with, step

FIRST = CONTROLLERS[0]


def healthy_cluster_step() -> Step:
    return Step("cluster/healthy", Kind.WAIT_HEALTHY, "cluster", "wait for 3 etcd members and the Kubernetes API")


def test_cluster_health_is_read_from_a_controller_that_answers(tmp_path: Path) -> None:
    runner, talos, _ = runner_with()
    runner.store = ClusterStateStore(tmp_path / "state.db")
    talos.silent.add(FIRST)  # talos-cp-01 crashed: its VM runs, Talos answers nothing
    assert runner(healthy_cluster_step()) == "etcd has 3 members; Kubernetes API answers"
    assert ("etcd_members", "10.0.0.12") in talos.calls


def test_cluster_health_still_waits_when_no_controller_answers(tmp_path: Path) -> None:
    runner, talos, _ = runner_with()
    runner.store = ClusterStateStore(tmp_path / "state.db")
    talos.silent.update(CONTROLLERS)
    with pytest.raises(Exception, match=r"etcd listing all 3 controllers: not reached"):
        runner(healthy_cluster_step())


def await_step(node: str) -> Step:
    return step(Kind.AWAIT_NODE, node, ip=runner_with()[0].desired.node(node).ip)


def test_a_crashed_node_is_looked_at_once_and_reported_by_name_without_waiting_its_boot_timeout() -> None:
    runner, talos, _ = runner_with()
    talos.silent.add(FIRST)
    with pytest.raises(Waiting) as waiting:
        runner(await_step("talos-cp-01"))
    assert str(waiting.value).startswith("talos-cp-01 (10.0.0.11) still does not answer")
    assert talos.calls == [("stage", FIRST)]  # one look, no polling until the boot timeout
    assert not talos.applied  # never configured


def test_a_crashed_node_that_answers_again_is_left_to_the_next_run() -> None:
    runner, talos, _ = runner_with()
    message = runner(await_step("talos-cp-01"))
    assert message == "talos-cp-01 (10.0.0.11) answers again (running): the next run compares its config"
    assert not talos.applied


def test_a_waiting_step_holds_what_depends_on_it_and_the_rest_of_the_run_goes_on() -> None:
    plan = Plan(
        "home",
        (
            Step("node/cp-01/await", Kind.AWAIT_NODE, "node/cp-01", "crashed"),
            Step("after-it", Kind.APPLY_CONFIG, "node/cp-01", "needs it", ("node/cp-01/await",)),
            Step("vm/303/update", Kind.UPDATE_VM, "vm/303", "independent"),
        ),
    )

    def handler(s: Step) -> str:
        if s.kind is Kind.AWAIT_NODE:
            raise Waiting("cp-01 (10.0.0.11) still does not answer")
        return "done"

    result = execute(plan, handler, NullReporter())
    assert result.ok and result.error is None
    assert result.statuses == {"node/cp-01/await": "waiting", "vm/303/update": "done", "after-it": "skipped"}
    assert result.awaiting == {"node/cp-01/await": "cp-01 (10.0.0.11) still does not answer"}


class RecoveringTalos:
    """A cluster whose etcd is lost, with one controller that answers nothing at all."""

    def __init__(self, silent: set[str]) -> None:
        self.silent = silent
        self.calls: list[tuple[str, str]] = []
        self.members: list[str] = []

    def _answer(self, what: str, ip: str) -> None:
        self.calls.append((what, ip))
        if ip in self.silent:
            raise Transient(f"talosctl {what} on {ip}: rpc error: code = Unavailable desc = connection error")

    def stage(self, ip: str) -> str:
        self.calls.append(("stage", ip))
        return "unreachable" if ip in self.silent else "running"

    def etcd_members(self, ip: str) -> list[str]:
        self._answer("etcd_members", ip)
        return self.members

    def reset_ephemeral(self, ip: str) -> None:
        self._answer("reset_ephemeral", ip)

    def bootstrap_recover(self, ip: str, snapshot: Path) -> None:
        self._answer("bootstrap_recover", ip)
        self.members = [c for c in CONTROLLERS if c not in self.silent]  # the others join the recovered etcd


def test_recovery_goes_through_the_controllers_that_answer_and_names_the_one_to_reset_later(tmp_path: Path) -> None:
    key, _ = find_or_create_key(tmp_path / "key.txt")
    snapshot = tmp_path / "snap.etcd.age"
    snapshot.write_bytes(encrypt_to(b"etcd-data", [key.public]))
    info = BackupInfo("home-1", "home", "2026-03-01T12:00:00+00:00", 9, 200, "v1.32.1", "v1.11.2", "cp-02", "manual")
    talos: Any = RecoveringTalos({FIRST})
    lines: list[str] = []

    def wait(check: Any, what: str) -> None:
        wait_until(check, timeout=2, what=what, poll=0.001)

    controllers = [Controller(f"talos-cp-0{i}", ip) for i, ip in enumerate(CONTROLLERS, 1)]
    recover_etcd(
        talos,
        controllers,
        snapshot,
        tmp_path / "key.txt",
        info,
        cluster="home",
        force=True,
        wait=wait,
        log=lines.append,
    )
    assert ("reset_ephemeral", FIRST) not in talos.calls  # a node that answers nothing is not reset blindly
    assert ("bootstrap_recover", "10.0.0.12") in talos.calls
    resets = [ip for what, ip in talos.calls if what == "reset_ephemeral"]
    assert resets == ["10.0.0.12", "10.0.0.13"]
    told = "\n".join(lines)
    assert "talos-cp-01 (10.0.0.11) does not answer" in told
    assert "talosctl -n 10.0.0.11 reset --graceful=false --reboot --system-labels-to-wipe=EPHEMERAL" in told


class CreatingProxmox(ScriptedProxmox):
    """Proxmox with no VM yet at the wanted VMID: `create_vm` records what it made."""

    def __init__(self, proxmox: ScriptedProxmox) -> None:
        super().__init__(proxmox.talos, proxmox.ips)
        self.created: list[int] = []

    def list_vms(self) -> list[object]:
        return []

    def create_vm(self, vm: Any) -> None:
        self.created.append(vm.vmid)


def test_a_new_vm_forgets_what_was_read_at_its_address(tmp_path: Path) -> None:
    """A machine created at an address is new: were it silent, it would get its config, not be awaited."""
    runner, _, proxmox = runner_with()
    runner.store = ClusterStateStore(tmp_path / "state.db")
    seen = ConfigSeen("2026-03-01T12:00:00Z", 3, "cfg", "v1.32.1")
    runner.store.record_configs_seen("home", {"10.0.0.21": seen, "10.0.0.22": seen})
    runner.conns.proxmox = CreatingProxmox(proxmox)
    assert runner(step(Kind.CREATE_VM, "talos-worker-01")) == "created VM 303"
    assert set(runner.store.configs_seen("home")) == {"10.0.0.22"}


def test_the_run_summary_names_the_node_that_answers_no_more() -> None:
    result = ExecResult(
        statuses={"vm/303/update": "done", "node/cp-01/await": "waiting"},
        awaiting={"node/cp-01/await": "cp-01 (10.0.0.11) still does not answer"},
    )
    outcome = Outcome("home", plan=Plan("home"), result=result, seconds=3.0)
    assert outcome.ok
    assert outcome.summary() == "applied 1 steps in 3.0s; cp-01 (10.0.0.11) still does not answer"
