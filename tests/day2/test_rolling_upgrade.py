"""A Talos upgrade rolls one node at a time; a controller that never comes back stops the roll with quorum intact,
and once the fault is cleared the next run resumes where the roll stopped."""

from __future__ import annotations

import threading

import pytest

from runner.cli.lab.session import LabSession
from runner.core.secret import Secret
from runner.drivers.proxmox import ProxmoxDriver
from tests.day2.conftest import drift_run, push_change, steps_of
from tests.e2e.labkit import describe

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-upgrade")]

CONTROLLERS = ("10.0.0.11", "10.0.0.12", "10.0.0.13")
WORKERS = ("10.0.0.21", "10.0.0.22")


def versions(lab: LabSession) -> dict[str, tuple[str, str]]:
    talos = lab.world.talos.lab
    with talos.lock:
        return {ip: (n.version, n.phase) for ip, n in talos.nodes.items()}


class QuorumWatch:
    """Samples the Talos twin while the roll runs: the fewest controllers running at any moment."""

    def __init__(self, lab: LabSession) -> None:
        self.lab = lab
        self.fewest = len(CONTROLLERS)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop.wait(0.02):
            running = sum(1 for ip in CONTROLLERS if versions(self.lab)[ip][1] == "running")
            self.fewest = min(self.fewest, running)

    def __enter__(self) -> QuorumWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def test_upgrade_stops_at_a_controller_that_never_returns_and_resumes_after(lab: LabSession) -> None:
    lab.world.talos.set_faults("10.0.0.12", no_return_after_reboot=True)
    with QuorumWatch(lab) as watch:
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

    with QuorumWatch(lab) as watch:
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
