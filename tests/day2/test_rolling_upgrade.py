"""A Talos upgrade rolls one node at a time; a controller that never comes back stops the roll with quorum intact,
and once the fault is cleared the next run resumes where the roll stopped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runner.cli.lab.session import LabSession
from runner.core.secret import Secret
from runner.drivers.proxmox import ProxmoxDriver
from tests.day2.conftest import bootstrapped_lab, drift_run, push_change, steps_of
from tests.day2.fewest import Fewest
from tests.e2e.labkit import SPEC_TALOS_V1_11, describe

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-upgrade")]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    """The reference cluster as pinned at Talos v1.11.2: a patch upgrade to v1.11.3 (v1.13.9 is the newest patch)."""
    with bootstrapped_lab(tmp_path_factory.mktemp("rolling"), SPEC_TALOS_V1_11, boot_timeout=15) as session:
        yield session


CONTROLLERS = ("10.0.0.11", "10.0.0.12", "10.0.0.13")
WORKERS = ("10.0.0.21", "10.0.0.22")


def versions(lab: LabSession) -> dict[str, tuple[str, str]]:
    talos = lab.world.talos.lab
    with talos.lock:
        return {ip: (n.version, n.phase) for ip, n in talos.nodes.items()}


def quorum_watch(lab: LabSession) -> Fewest:
    """Samples the Talos twin while the roll runs: the fewest controllers running at any moment."""

    def running() -> int:
        return sum(1 for ip in CONTROLLERS if versions(lab)[ip][1] == "running")

    return Fewest(running, start=len(CONTROLLERS), every=0.02)


def test_upgrade_stops_at_a_controller_that_never_returns_and_resumes_after(lab: LabSession) -> None:
    lab.world.talos.set_faults("10.0.0.12", no_return_after_reboot=True)
    with quorum_watch(lab) as watch:
        run = push_change(lab, "version: v1.11.2", "version: v1.11.3", "Talos v1.11.3")
    assert run["result"] == "failure", describe(run)
    assert "talos-cp-02" in (run["error"] or "") and "10.0.0.12" in (run["error"] or "")
    state = versions(lab)
    assert state["10.0.0.11"] == ("v1.11.3", "running")  # first controller done
    assert state["10.0.0.13"] == ("v1.11.2", "running")  # the rest untouched
    assert all(state[ip] == ("v1.11.2", "running") for ip in WORKERS)
    assert watch.fewest >= 2, "two controllers were down at once"
    executed = steps_of(lab, run)
    assert "node/talos-cp-03/upgrade" not in executed and "node/talos-worker-01/upgrade" not in executed
    # Each node is drained before it goes down and uncordoned after; the one that never returned stays cordoned.
    order = [executed.index(f"node/{s}") for s in ("talos-cp-01/drain", "talos-cp-01/upgrade", "talos-cp-01/uncordon")]
    assert order == sorted(order), executed
    assert executed.index("node/talos-cp-01/uncordon") < executed.index("node/talos-cp-02/drain"), executed
    assert "node/talos-cp-02/uncordon" not in executed

    # The operator clears the fault and resets the VM from the Proxmox console.
    lab.world.talos.set_faults("10.0.0.12")
    token_id, secret = next(iter(lab.world.proxmox_state.tokens.items()))
    proxmox = ProxmoxDriver(lab.world.proxmox.url, token_id, Secret(secret), ca_bundle=lab.world.proxmox.ca_bundle)
    proxmox.stop_vm("atlas", 301)
    proxmox.start_vm("atlas", 301)

    with quorum_watch(lab) as watch:
        resumed = drift_run(lab)
    assert resumed["result"] == "success", describe(resumed)
    assert watch.fewest >= 2
    done = steps_of(lab, resumed)
    assert "node/talos-cp-01/upgrade" not in done  # not redone: the roll resumes where it stopped
    assert "node/talos-cp-02/upgrade" in done and "node/talos-worker-02/upgrade" in done
    for node in ("talos-cp-02", "talos-cp-03", "talos-worker-01", "talos-worker-02"):
        drain, upgrade, uncordon = (done.index(f"node/{node}/{s}") for s in ("drain", "upgrade", "uncordon"))
        assert drain < upgrade < uncordon, done
    assert all(v == ("v1.11.3", "running") for v in versions(lab).values())


def test_controller_reboots_roll_one_at_a_time_and_etcd_never_loses_quorum(lab: LabSession) -> None:
    """Talos checks etcd before an upgrade, never before a reboot: keeping quorum across reboots is the runner's
    job. The twin's etcd members come back a while after their node does, so the runner must wait for health."""
    talos = lab.world.talos.lab
    before = len(talos.quorum_losses)
    run = push_change(lab, "memory: 8192", "memory: 10240", "More memory for the controllers", count=3)
    assert run["result"] == "success", describe(run)
    executed = steps_of(lab, run)
    assert [s for s in executed if s.endswith("/update")] == ["vm/300/update", "vm/301/update", "vm/302/update"]
    assert talos.quorum_losses[before:] == [], "etcd lost quorum: a controller went down before the last was back"


def test_a_changed_extension_list_upgrades_every_node_to_a_schematic_the_factory_knows(lab: LabSession) -> None:
    run = push_change(lab, "    - siderolabs/tailscale\n", "", "Drop the tailscale extension")
    assert run["result"] == "success", describe(run)
    factory = lab.world.factory_state
    talos = lab.world.talos.lab
    with talos.lock:
        images = {ip: n.installer_image for ip, n in talos.nodes.items()}
    schematics = {image.rsplit("/", 1)[-1].split(":")[0] for image in images.values()}
    assert len(schematics) == 5  # each node's own META, all with the new extension list
    with factory.lock:
        assert schematics <= set(factory.schematics)
    assert all("upgrade" in s for s in steps_of(lab, run) if s.endswith("/upgrade"))
