"""Benchmark: VM creation in parallel vs serial, and the Proxmox calls of a no-op reconcile.

1. Creating the reference cluster's 5 VMs (create + start, as the planner orders them) through the real
   executor, step handlers and ProxmoxDriver against the Proxmox twin over HTTPS, every PVE task taking
   300 ms: max_parallel=1 vs max_parallel=5 (target: parallel <= 0.35x serial).
2. Observing a converged cluster of 5, 50 and 500 VMs with the engine's observe_vms: how many API calls the
   twin receives (target: <= 2 for any node count; the design answers with one GET /cluster/resources).
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from plan_scale import checked_cluster, generated_spec
from ruamel.yaml import YAML

from runner.core.cluster_secrets import ClusterSecrets
from runner.core.derive import Desired, derive
from runner.core.planner import plan
from runner.core.secret import Secret
from runner.core.spec import Cluster
from runner.core.state import Observed
from runner.core.steps import Kind, Plan, Step
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.reconcile.connection_targets import ConnectionTargets
from runner.engine.reconcile.executor import execute
from runner.engine.reconcile.flux_key import FluxKey
from runner.engine.reconcile.handlers import StepRunner
from runner.engine.reconcile.observe import observe_vms
from runner.engine.reconcile.target_settings import TargetSettings
from runner.engine.reconcile.targets import Connections
from runner.lab.proxmox import Delays, ProxmoxTwin, ProxmoxTwinState, serve_proxmox_twin

ROOT = Path(__file__).resolve().parents[1]
TOKEN_ID = "root@pam!runner"
TOKEN_SECRET = "0b6c3f0e-4d1a-4a52-9f0e-5be7c0a1b2c3"
TASK_LATENCY = 0.3
PARALLEL = 5
RATIO_TARGET = 0.35
NOOP_SIZES = (5, 50, 500)
NOOP_TARGET = 2


class QuietReporter:
    def step_started(self, step: Step) -> None:
        pass

    def step_finished(self, step: Step, status: str, message: str, seconds: float) -> None:
        if status != "done":
            print(f"  {step.id}: {status}: {message}")

    def log(self, message: str) -> None:
        pass


def reference_cluster() -> Cluster:
    data = YAML(typ="safe").load((ROOT / "clusters/home/cluster.yaml").read_text())
    return checked_cluster(data)


def serve_twin(cert_dir: Path, delays: Delays) -> ProxmoxTwin:
    return serve_proxmox_twin(ProxmoxTwinState(tokens={TOKEN_ID: TOKEN_SECRET}, delays=delays), cert_dir)


def connections(twin: ProxmoxTwin, cluster: Cluster) -> Connections:
    settings = TargetSettings(proxmox_url=twin.url, proxmox_ca_bundle=twin.ca_bundle)
    secrets = ClusterSecrets(TOKEN_ID, Secret(TOKEN_SECRET), None, None, None, None)
    return Connections(settings, ConnectionTargets.of(cluster), secrets)


def download_images(conns: Connections, desired: Desired) -> None:
    """Every node boots its own schematic: put each image on the storage first (not part of the timing)."""
    images = {dn.vm.image.volid: dn.vm.image for dn in desired.nodes}
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(conns.proxmox.download_image, images.values()))


def creation_plan(desired: Desired) -> Plan:
    """The planner's own create/start steps for a cluster whose images are already on the storage."""
    full = plan(desired, Observed(images=frozenset(dn.vm.image.volid for dn in desired.nodes)))
    steps = tuple(s for s in full.steps if s.kind in (Kind.CREATE_VM, Kind.START_VM))
    return Plan(full.cluster, steps)


def no_flux_key() -> FluxKey:
    raise SystemExit("creating VMs needs no Flux key: the benchmark plans no Flux step")


def timed_creation(cluster: Cluster, cert_dir: Path, state_dir: Path, max_parallel: int) -> tuple[float, int]:
    delays = Delays(task=TASK_LATENCY, create=TASK_LATENCY, start=TASK_LATENCY, shutdown=TASK_LATENCY, download=0.0)
    twin = serve_twin(cert_dir, delays)
    conns = connections(twin, cluster)
    store = ClusterStateStore(state_dir / f"state-{max_parallel}.db")
    try:
        desired = derive(cluster)
        download_images(conns, desired)
        steps = creation_plan(desired)
        runner = StepRunner(cluster, desired, conns, {}, store, no_flux_key, False)
        started = time.perf_counter()
        result = execute(steps, runner, QuietReporter(), max_parallel=max_parallel)
        seconds = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"creation failed at {result.failed_step}: {result.error}")
        running = sum(1 for vm in conns.proxmox.list_vms() if vm.status == "running")
        return seconds, running
    finally:
        conns.close()
        twin.stop()


def converge_vms(conns: Connections, desired: Desired) -> None:
    """Create and start every VM through the driver, as an earlier apply would have."""
    download_images(conns, desired)
    px = conns.proxmox

    def bring_up(vmid_index: int) -> None:
        vm = desired.nodes[vmid_index].vm
        px.create_vm(vm)
        px.start_vm(vm.node, vm.vmid)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(bring_up, range(len(desired.nodes))))


def noop_calls(n: int, cert_dir: Path) -> tuple[int, int, list[str]]:
    """(API calls of observe_vms on a converged cluster, VM steps the re-plan still wants, the calls made)."""
    cluster = reference_cluster() if n == 5 else checked_cluster(generated_spec(n))
    twin = serve_twin(cert_dir, Delays(task=0.0, create=0.0, start=0.0, shutdown=0.0, download=0.0))
    conns = connections(twin, cluster)
    try:
        desired = derive(cluster)
        converge_vms(conns, desired)
        twin.state.calls.reset()
        vms, images = observe_vms(desired, conns)
        calls = [f"{c.method} {c.path}" for c in twin.state.calls.matching()]
        again = plan(desired, Observed(vms=vms, images=images))
        infra = [s.id for s in again.steps if s.kind in (Kind.CREATE_VM, Kind.START_VM, Kind.UPDATE_VM)]
        return len(calls), len(infra), calls
    finally:
        conns.close()
        twin.stop()


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-pve-") as tmp:
        root = Path(tmp)
        cluster = reference_cluster()
        serial, up_serial = timed_creation(cluster, root / "cert", root, 1)
        parallel, up_parallel = timed_creation(cluster, root / "cert", root, PARALLEL)
        ratio = parallel / serial
        print(f"create+start {len(cluster.nodes)} VMs, PVE task latency {TASK_LATENCY * 1000:.0f} ms")
        print(f"{'max_parallel':>12} {'seconds':>8} {'running':>8}")
        print(f"{1:>12} {serial:>8.2f} {up_serial:>8}")
        print(f"{PARALLEL:>12} {parallel:>8.2f} {up_parallel:>8}")
        ratio_ok = ratio <= RATIO_TARGET and up_serial == up_parallel == len(cluster.nodes)
        ok &= ratio_ok
        print(f"ratio parallel/serial {ratio:.2f}")
        print()
        print(f"{'nodes':>6} {'no-op API calls':>16} {'VM steps left':>14}  calls")
        worst = 0
        for n in NOOP_SIZES:
            count, left, calls = noop_calls(n, root / "cert")
            worst = max(worst, count)
            ok &= left == 0
            print(f"{n:>6} {count:>16} {left:>14}  {', '.join(sorted(set(calls)))}")
        noop_ok = worst <= NOOP_TARGET
        ok &= noop_ok
    print(
        f"target: parallel/serial <= {RATIO_TARGET} ({ratio:.2f}) and no-op <= {NOOP_TARGET} Proxmox calls "
        f"(worst {worst}) -> {'ok' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
