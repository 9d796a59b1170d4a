"""An apply that would fail on privileges is refused before it changes anything, from the CLI and the service."""

from __future__ import annotations

from pathlib import Path

from runner.core.validate import validate_text
from runner.engine.reconcile import preflight
from runner.engine.reconcile.local import apply_local
from runner.engine.reconcile.outcome import NullReporter
from runner.lab.proxmox.host_setup import ROLE, ROLE_PRIVILEGES

from .conftest import REPO_ROOT

CHANGES = ("POST", "PUT", "DELETE")


def _changes(twin) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{c.method} {c.path}" for c in twin.calls.matching() if c.method in CHANGES]


def test_apply_without_vm_allocate_changes_nothing(lab, twin):
    preflight.forget()
    twin.access.roles[ROLE] = frozenset(ROLE_PRIVILEGES) - {"VM.Allocate"}
    twin.calls.reset()
    outcome = apply_local(REPO_ROOT, "home", NullReporter(), settings=lab.settings)
    assert not outcome.ok
    assert outcome.error is not None
    lacks = "refusing to apply: the Proxmox token runner@pve!gitops lacks VM.Allocate on /vms/300"
    assert outcome.error.startswith(lacks)
    assert "on PVE 9.2.11 - nothing was changed" in outcome.error
    assert "nothing was changed" in outcome.error
    assert outcome.result is None  # no step ran
    assert _changes(twin) == []  # no VM created, no download started
    assert twin.vms == {}
    assert not [v for v in twin.storages["local"].volumes.values() if v.content == "import"]


def test_the_service_refuses_the_same_apply(lab, twin):
    preflight.forget()
    twin.access.roles[ROLE] = frozenset(ROLE_PRIVILEGES) - {"VM.Allocate"}
    twin.calls.reset()
    lab.seed_clone()
    run = lab.wait_for_run(lab.push(), timeout=60)
    assert run["result"] == "failure", run
    assert "lacks VM.Allocate on /vms/300" in run["error"]
    assert _changes(twin) == []


class CountingInspect:
    """A ProxmoxInspect whose token holds every privilege; counts the permission lookups."""

    def __init__(self) -> None:
        self.calls = 0

    def version(self) -> str:
        return "8.4.1"

    def permissions(self, path: str) -> dict[str, bool]:
        self.calls += 1
        return dict.fromkeys(ROLE_PRIVILEGES, True)

    def storage_content(self, node: str, storage: str) -> frozenset[str] | None:
        return frozenset({"import"})

    def bridges(self, node: str) -> frozenset[str]:
        return frozenset({"vmbr0"})


def test_the_preflight_asks_once_per_process_and_path():
    preflight.forget()
    cluster, _ = validate_text(Path(REPO_ROOT / "clusters/home/cluster.yaml").read_text(), "cluster.yaml")
    inspect = CountingInspect()
    preflight.check_privileges(inspect, cluster, "https://atlas:8006", "runner@pve!gitops")
    # /vms/300..304, /storage/local-lvm, /storage/local, /nodes/atlas, /sdn/zones/localnetwork/vmbr0
    assert inspect.calls == 9
    preflight.check_privileges(inspect, cluster, "https://atlas:8006", "runner@pve!gitops")
    assert inspect.calls == 9
