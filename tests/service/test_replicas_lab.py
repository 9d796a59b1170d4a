"""Two `runner serve` replicas on one PostgreSQL run the real reconcile against the lab's twins, and the one
holding the cluster is killed with SIGKILL mid-run: while it creates the VMs, or right after it bootstrapped etcd.

Nothing of the runner is stood in for: each replica is the installed `runner serve`, configured by RUNNER_*
variables as an operator would, reaching Proxmox, the Image Factory, Talos (through talosctl) and Kubernetes
over their wire protocols. The survivor takes the lease over once it runs out, runs the commit to the end and
converges the cluster: five VMs, each created once; etcd bootstrapped once; every node Ready; the Flux hand-off
recorded; every delivery answered by the run that applied the head; and no step of the survivor's run started
before the killed run's last step had stopped.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from serveproc import Push, ServeProcess, pushes
from servicekit import wait_until

from runner.cli.lab.session import LabSession
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.lab.world import LabWorld
from runner.lab.world_inputs import Pace
from tests.e2e.labkit import REPO_ROOT
from tests.pg import Postgres

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.xdist_group("replicas-lab")]
CLUSTER_YAML = "clusters/home/cluster.yaml"
NODES = {"talos-cp-01", "talos-cp-02", "talos-cp-03", "talos-worker-01", "talos-worker-02"}
CONTROLLERS = {"10.0.0.11", "10.0.0.12", "10.0.0.13"}


def replica_settings(session: LabSession, world: LabWorld, database_url: str) -> dict[str, str]:
    """What an operator sets on each replica to point it at the lab: the same for both, one database."""
    target = world.target_settings()
    return {
        "RUNNER_RUN_FN": "",  # the engine's own reconcile
        "RUNNER_DATABASE_URL": database_url,
        "RUNNER_LEASE_SECONDS": "3",
        "RUNNER_PROXMOX_URL": str(target["proxmox_url"]),
        "RUNNER_PROXMOX_CA_BUNDLE": str(target["proxmox_ca_bundle"]),
        "RUNNER_IMAGE_FACTORY_URL": str(target["image_factory_url"]),
        "RUNNER_TALOSCTL_PATH": str(target["talosctl_path"]),
        "RUNNER_TALOSCTL_PATHS": json.dumps(target["talosctl_paths"]),
        "RUNNER_ADDRESS_MAP": json.dumps(target["address_map"]),
        "RUNNER_AGE_KEY_FILE": str(session.age_key),
        "RUNNER_BACKUP_DIR": str(session.workdir / "backups"),
        "RUNNER_BOOT_TIMEOUT": "30",
        "RUNNER_FLUX_TIMEOUT": "40",
        "RUNNER_POLL_SECONDS": "0.25",
        "RUNNER_RETRY_BACKOFF": "0.5",
        "RUNNER_SETTLE_SECONDS": "0",
    }


@pytest.fixture
def lab_and_replicas(tmp_path: Path, postgres: Postgres) -> Iterator[tuple[LabSession, str, list[ServeProcess]]]:
    session = LabSession(REPO_ROOT, tmp_path / "lab", pace=Pace.fast())
    world = session.start_world()
    session.seed_clone()
    session.push()  # the operator's first commit; the bootstrap is the next push, delivered by the test
    url = postgres.new_database()
    made: list[ServeProcess] = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            settings = replica_settings(session, world, url)
            made.append(ServeProcess(tmp_path / name, world.git, settings).start())
        yield session, url, made
    finally:
        for replica in made:
            replica.stop()
        world.stop()
        postgres.drop_database(url)


def push_cluster_change(session: LabSession, note: str) -> Push:
    """A commit touching the home cluster (a comment in cluster.yaml) pushed, and its push delivery."""
    text = (session.clone / CLUSTER_YAML).read_text()
    commit = session.commit({CLUSTER_YAML: f"{text}# {note}\n"}, note)
    session.push()
    return pushes(session.world.git, [commit])[0]


def called_talosctl(replica: ServeProcess) -> bool:
    """A replica that called talosctl holds its own directory in its private work root (the idle one none)."""
    root = replica.root / "work"
    return root.is_dir() and any(p.is_dir() for p in root.iterdir())


def talks_to(port: int) -> Callable[[ServeProcess], bool]:
    """Does the replica's process hold an open TCP connection to `port` (the holder's Proxmox session does)?"""

    def check(replica: ServeProcess) -> bool:
        assert replica.proc is not None
        fds = Path(f"/proc/{replica.proc.pid}/fd")
        sockets = {os.readlink(fd) for fd in fds.iterdir() if os.readlink(fd).startswith("socket:")}
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                remote_port, state, inode = int(fields[2].rsplit(":", 1)[1], 16), fields[3], fields[9]
                if remote_port == port and state == "01" and f"socket:[{inode}]" in sockets:
                    return True
        return False

    return check


@dataclass(frozen=True)
class KillMoment:
    """When the holder dies, and how the test tells it from the idle replica at that moment."""

    what: str
    reached: Callable[[LabSession], object]
    holder: Callable[[LabSession], Callable[[ServeProcess], bool]]
    cut_off: str | None = None  # the kind of step the kill surely cuts off


def some_vm_exists(session: LabSession) -> bool:
    with session.world.proxmox_state.lock:
        return bool(session.world.proxmox_state.vms)


MOMENTS = [
    KillMoment(
        "the VMs being created",
        some_vm_exists,
        lambda session: talks_to(session.world.proxmox.server.port),
        cut_off="create_vm",
    ),
    KillMoment("etcd bootstrapped", lambda session: session.world.talos.lab.bootstrap_calls, lambda _: called_talosctl),
]


def vm_creates(session: LabSession) -> Counter[int]:
    calls = session.world.proxmox_state.calls.matching("POST", "/nodes/*/qemu")
    return Counter(int(c.params["vmid"]) for c in calls if c.status == 200)


def ready_nodes(session: LabSession) -> set[str]:
    twin = session.world.kube_twin
    kind = twin.catalog.by_kind("v1", "Node")
    nodes = twin.store.list(kind, None) if kind is not None else []
    return {
        n["metadata"]["name"]
        for n in nodes
        if any(c["type"] == "Ready" and c["status"] == "True" for c in n.get("status", {}).get("conditions", []))
    }


def steps(replica: ServeProcess, run: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = replica.get(f"/api/runs/{run['id']}")["steps"]
    return found


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m.what.replace(" ", "-"))
def test_kill_9_of_the_replica_holding_the_cluster_hands_the_real_reconcile_to_the_other(
    lab_and_replicas: tuple[LabSession, str, list[ServeProcess]], moment: KillMoment
) -> None:
    session, url, (a, b) = lab_and_replicas
    talos = session.world.talos.lab
    with session.world.proxmox_state.lock:
        session.world.proxmox_state.delays.create = 2.0  # a VM's create task outlives the holder killed meanwhile
    bootstrap = push_cluster_change(session, "bootstrap")
    assert a.deliver(bootstrap).status_code == 202
    wait_until(lambda: [r for r in a.runs(cluster="home") if r["status"] == "running"], 60, "a replica to take it")
    late = [push_cluster_change(session, f"late {i}") for i in range(2)]  # pushed now, delivered around the kill
    wait_until(lambda: moment.reached(session), 120, moment.what)
    is_holder = moment.holder(session)
    holders = [r for r in (a, b) if is_holder(r)]
    assert len(holders) == 1, "exactly one replica runs the cluster"
    holder = holders[0]
    survivor = b if holder is a else a
    assert survivor.deliver(late[0]).status_code == 202  # deliveries keep arriving while the holder dies
    holder.kill()
    killed_at = time.time()
    assert survivor.deliver(late[1]).status_code == 202

    head = late[-1].commit
    wait_until(lambda: survivor.quiet() and head in survivor.applied("home"), 240, "the survivor to converge")
    runs = survivor.runs(cluster="home")
    assert [r["result"] for r in runs] == ["interrupted", "success"], runs
    assert runs[1]["commit_sha"] == head
    assert runs[1]["deliveries"] == [bootstrap.delivery, late[0].delivery, late[1].delivery]

    assert talos.bootstrap_calls == [sorted(CONTROLLERS)[0]], "etcd was bootstrapped once, by the killed run"
    with talos.lock:
        members = {m.ip for cluster in talos.etcd.values() for m in cluster.values()}
    assert members == CONTROLLERS and len(talos.etcd) == 1
    assert vm_creates(session) == Counter(dict.fromkeys(range(300, 305), 1)), "each VM created once"
    with session.world.proxmox_state.lock:
        assert {vm.config["name"] for vm in session.world.proxmox_state.vms.values()} == NODES
    assert ready_nodes(session) == NODES
    store = ClusterStateStore(url)
    try:
        assert store.get("home").handoff_at is not None
    finally:
        store.close()

    killed, finished = (steps(survivor, r) for r in runs)
    if moment.cut_off:
        assert moment.cut_off in [s["kind"] for s in killed if s["status"] == "interrupted"], killed
    assert {s["status"] for s in finished} == {"succeeded"}
    last_stop = max(float(s["finished_at"]) for s in killed)
    first_start = min(float(s["started_at"]) for s in finished)
    assert killed_at <= first_start and last_stop <= first_start, "a step ran on both replicas at once"
