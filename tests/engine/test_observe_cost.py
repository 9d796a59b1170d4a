"""Observing Talos costs the same number of talosctl processes for 10 nodes as for 5.

Real pieces throughout: the Proxmox twin over HTTPS with the VMs created and started by the driver, the
Talos twin with every node installed with the config the runner renders for it, and the talosctl driver
running the twin's talosctl through a wrapper that counts each process it starts.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.core.cluster_secrets import ClusterSecrets, parse_secrets
from runner.core.derive import Desired, derive
from runner.core.errors import Permanent
from runner.core.planner import plan
from runner.core.secret import Redactor
from runner.core.steps import Kind
from runner.drivers.sops import SopsCli
from runner.engine.reconcile.clusterstate import ClusterFacts, ClusterStateStore
from runner.engine.reconcile.configs import node_configs, with_config_hashes
from runner.engine.reconcile.connection_targets import ConnectionTargets
from runner.engine.reconcile.observe import observe
from runner.engine.reconcile.outcome import NullReporter
from runner.engine.reconcile.reconciler import Engine
from runner.engine.reconcile.source import DirSource
from runner.engine.reconcile.target_settings import TargetSettings
from runner.engine.reconcile.targets import Connections
from runner.lab.proxmox import Delays, ProxmoxTwinState, serve_proxmox_twin
from runner.lab.proxmox.host_setup import HostPlan, prepare_host
from runner.lab.talos import TalosTwin, install_talosctl_shim, start_talos_twin

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))  # the benchmarks' spec generator
from plan_scale import checked_cluster, generated_spec  # noqa: E402
from proxmox_parallel import converge_vms, reference_cluster  # noqa: E402


@dataclass
class TalosLab:
    desired: Desired
    conns: Connections
    twin: TalosTwin
    count_file: Path
    store: ClusterStateStore

    def talosctl_runs(self) -> list[str]:
        return self.count_file.read_text().splitlines() if self.count_file.exists() else []


def home_secrets() -> ClusterSecrets:
    path = ROOT / "clusters/home/secrets.sops.yaml"
    data = SopsCli(age_key_file=ROOT / "tests/keys/lab.agekey").decrypt(path.read_bytes(), "secrets.sops.yaml")
    return parse_secrets(data, "secrets.sops.yaml")


def counting_talosctl(shim: Path, log: Path) -> Path:
    wrapper = shim.parent / "counted-talosctl"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{shim}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


@pytest.fixture
def make_lab(tmp_path: Path) -> Iterator[object]:
    started: list[tuple[object, ...]] = []
    secrets = home_secrets()

    def make(n: int) -> TalosLab:
        root = tmp_path / f"n{n}"
        cluster = reference_cluster() if n == 5 else checked_cluster(generated_spec(n))
        state = ProxmoxTwinState(
            tokens={secrets.proxmox_token_id: secrets.proxmox_token_secret.reveal()},
            delays=Delays(task=0.0, create=0.0, start=0.0, shutdown=0.0, download=0.0),
        )
        # the token holds exactly the documented role, as on a prepared host
        prepare_host(state, HostPlan(secrets.proxmox_token_id), secrets.proxmox_token_secret.reveal())
        proxmox = serve_proxmox_twin(state, root / "tls")
        twin = start_talos_twin()
        shim = install_talosctl_shim(root / "bin", twin.url)
        count_file = root / "talosctl.log"
        settings = TargetSettings(
            proxmox_url=proxmox.url,
            proxmox_ca_bundle=proxmox.ca_bundle,
            talosctl_path=str(counting_talosctl(shim, count_file)),
        )
        conns = Connections(settings, ConnectionTargets.of(cluster), secrets)
        base = derive(cluster)
        configs = node_configs(cluster, base, secrets, conns.bundle)
        desired = with_config_hashes(base, configs)
        converge_vms(conns, desired)
        for dn in desired.nodes:
            twin.preinstall(dn.ip, configs[dn.name].text.reveal(), dn.name)
        store = ClusterStateStore(root / "state.db")
        started.append((proxmox, twin, conns, store))
        return TalosLab(desired, conns, twin, count_file, store)

    yield make
    for proxmox, twin, conns, store in started:
        conns.close()  # type: ignore[attr-defined]
        twin.stop()  # type: ignore[attr-defined]
        proxmox.stop()  # type: ignore[attr-defined]
        store.close()  # type: ignore[attr-defined]


def observed_runs(lab: TalosLab) -> tuple[list[str], list[str]]:
    """(talosctl runs of a first observation, of the next one): the second may reuse configs it read."""
    lab.count_file.unlink(missing_ok=True)
    first = observe(lab.desired, lab.conns, ClusterFacts(), lab.store)
    runs_first = lab.talosctl_runs()
    assert {t.stage for t in first.talos.values()} == {"running"}
    lab.count_file.unlink(missing_ok=True)
    observe(lab.desired, lab.conns, ClusterFacts(), lab.store)
    return runs_first, lab.talosctl_runs()


def commands(runs: list[str]) -> list[str]:
    """The talosctl sub-command of each run, without the node list and credentials."""
    out = []
    for run in runs:
        words = run.split()
        words = words[words.index("-n") + 2 :] if "-n" in words else words
        out.append(" ".join(words))
    return sorted(out)


def test_talos_observation_does_not_grow_with_the_node_count(make_lab) -> None:  # type: ignore[no-untyped-def]
    five_first, five_again = observed_runs(make_lab(5))
    ten_first, ten_again = observed_runs(make_lab(10))
    assert len(ten_first) <= len(five_first), commands(ten_first)
    assert len(ten_again) <= len(five_again), commands(ten_again)
    # Exactly: stage; version, schematic and config versions; the configs (first time only); etcd: members, and
    # as they time out the etcd service of every controller at once (not bootstrapped here, so Kubernetes is not
    # asked).
    reads = [
        "etcd members",
        "get extensions -o json",
        "get machineconfig",
        "get machinestatus -o json",
        "service etcd",
        "version",
    ]
    assert commands(ten_first) == sorted([*reads, "get machineconfig -o json"])
    assert commands(ten_again) == reads


def test_a_changed_config_is_read_again(make_lab) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(5)
    observed_runs(lab)
    node = lab.desired.nodes[3]
    current = lab.conns.talos.machine_config(node.ip).reveal()
    edited = current.replace(f"hostname: {node.name}", "hostname: edited-by-hand")
    assert edited != current
    lab.conns.talos.apply_config(node.ip, edited, insecure=False, mode="no-reboot")  # by hand, same boot
    observed = observe(lab.desired, lab.conns, ClusterFacts(), lab.store)
    assert observed.talos[node.name].config_hash != node.config_hash
    steps = plan(lab.desired, observed).steps
    assert [s.target for s in steps if s.kind == Kind.APPLY_CONFIG] == [f"node/{node.name}"]


def test_a_permanent_etcd_error_stops_observation(make_lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An etcd answer of "not authorized" is no proof that etcd has not started: never plan a bootstrap on it."""
    lab = make_lab(5)
    real = lab.conns.settings.talosctl_path
    refusing = tmp_path / "refusing-talosctl"
    refusing.write_text(
        "#!/bin/sh\ncase \"$*\" in *'etcd members'*) "
        "echo 'error getting members: rpc error: code = PermissionDenied desc = not authorized' >&2; exit 1;; esac\n"
        f'exec "{real}" "$@"\n'
    )
    refusing.chmod(0o755)
    settings = lab.conns.settings.model_copy(
        update={"talosctl_path": str(refusing), "age_key_file": ROOT / "tests/keys/lab.agekey"}
    )
    conns = Connections(settings, lab.conns.targets, lab.conns.secrets)
    try:
        with pytest.raises(Permanent, match="PermissionDenied desc = not authorized"):
            observe(lab.desired, conns, ClusterFacts(), lab.store)
    finally:
        conns.close()
    # The whole run: it stops before planning, with the node's answer, and plans no bootstrap.
    outcome = Engine(settings, lab.store).reconcile(
        DirSource(ROOT), "home", apply=False, reporter=NullReporter(), redactor=Redactor()
    )
    assert outcome.plan is None
    assert outcome.error == (
        "talosctl etcd members on 10.0.0.11: error getting members: "
        "rpc error: code = PermissionDenied desc = not authorized"
    )


def test_a_recorded_bootstrap_is_never_planned_again(make_lab) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(5)
    # The recorded endpoint is the first controller's; nothing answers there (a closed loopback port).
    settings = lab.conns.settings.model_copy(update={"address_map": {"10.0.0.11:6443": "127.0.0.1:9"}})
    conns = Connections(settings, lab.conns.targets, lab.conns.secrets)
    facts = ClusterFacts(bootstrapped_at="2026-01-01T00:00:00+00:00", endpoint="https://10.0.0.11:6443")
    try:
        observed = observe(lab.desired, conns, facts, lab.store)  # etcd is not even asked
    finally:
        conns.close()
    assert observed.cluster.bootstrapped
    assert not [s for s in plan(lab.desired, observed).steps if s.kind == Kind.BOOTSTRAP]


def test_a_rebooted_node_has_its_config_read_again(make_lab) -> None:  # type: ignore[no-untyped-def]
    """After a reboot the MachineConfig version starts afresh and may equal the one recorded: the boot differs."""
    lab = make_lab(5)
    observed_runs(lab)
    node = lab.desired.nodes[4]
    lab.twin.power(node.ip, False)
    lab.twin.power(node.ip, True)
    deadline = time.monotonic() + 30
    while lab.twin.phase(node.ip) != "running":
        assert time.monotonic() < deadline, "the node did not come back"
        time.sleep(0.05)
    lab.count_file.unlink(missing_ok=True)
    observe(lab.desired, lab.conns, ClusterFacts(), lab.store)
    reads = [run for run in lab.talosctl_runs() if run.endswith("get machineconfig -o json")]
    assert len(reads) == 1 and f"-n {node.ip} " in reads[0], lab.talosctl_runs()


def test_a_recorded_bootstrap_stands_while_the_first_controller_is_down(make_lab) -> None:  # type: ignore[no-untyped-def]
    """The first controller crashed (its VM still runs): the cluster it bootstrapped is still bootstrapped.

    Planning `bootstrap` here would, once that node is reinstalled with an empty disk, start a second etcd
    cluster beside the one the other controllers keep.
    """
    lab = make_lab(5)
    first = lab.desired.bootstrap_node
    lab.twin.power(first.ip, False)
    # The recorded endpoint is the VIP; this lab serves no Kubernetes API there (a closed loopback port).
    settings = lab.conns.settings.model_copy(update={"address_map": {"10.0.0.20:6443": "127.0.0.1:9"}})
    conns = Connections(settings, lab.conns.targets, lab.conns.secrets)
    facts = ClusterFacts(bootstrapped_at="2026-01-01T00:00:00+00:00", endpoint=lab.desired.vip_endpoint)
    try:
        observed = observe(lab.desired, conns, facts, lab.store)
    finally:
        conns.close()
    assert observed.talos[first.name].stage == "unreachable"
    assert observed.cluster.bootstrapped
    assert not observed.cluster.kube_api_ready
    assert [s.id for s in plan(lab.desired, observed).steps if s.kind == Kind.BOOTSTRAP] == []


def test_a_silent_node_the_runner_read_before_is_observed_as_one_that_ran(make_lab) -> None:  # type: ignore[no-untyped-def]
    """Crashed (read before, silent now) and new (never read: a first boot) look alike to Talos; the record tells."""
    lab = make_lab(5)
    observed_runs(lab)  # every node's running config read, and recorded
    crashed, fresh = lab.desired.nodes[0], lab.desired.nodes[4]
    lab.store.forget_config_seen(lab.desired.cluster, fresh.ip)  # as creating a VM at its address does
    lab.twin.power(crashed.ip, False)
    lab.twin.power(fresh.ip, False)
    observed = observe(lab.desired, lab.conns, ClusterFacts(), lab.store)
    assert (observed.talos[crashed.name].stage, observed.talos[crashed.name].ran_before) == ("unreachable", True)
    assert (observed.talos[fresh.name].stage, observed.talos[fresh.name].ran_before) == ("unreachable", False)
