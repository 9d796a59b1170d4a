"""Day-2 stories: one bootstrapped lab per module, changed as an operator would.

Each test sets up what it needs on that lab and does not count on another test having run before it (or at all):
the order is shuffled (pytest-randomly), and a module's tests may each get a lab of their own."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from proxmoxer import ProxmoxAPI

from runner.cli.lab.session import LabSession
from runner.core.secret import Secret
from runner.drivers.proxmox import ProxmoxDriver
from runner.server.app import service_of
from tests.e2e.labkit import REPO_ROOT, describe, repo_with_spec, start_lab

CLUSTER_YAML = "clusters/home/cluster.yaml"


def push_change(session: LabSession, old: str, new: str, message: str, count: int = 1) -> dict[str, Any]:
    """Edit cluster.yaml in the operator's clone, commit, push; the finished run of that commit."""
    text = (session.clone / CLUSTER_YAML).read_text()
    assert text.count(old) >= count, f"{old!r} not in cluster.yaml"
    commit = session.commit({CLUSTER_YAML: text.replace(old, new, count)}, message)
    session.push()
    return session.wait_for_run(commit, timeout=300)  # a bound for a broken run, not a speed target


def drift_run(session: LabSession) -> dict[str, Any]:
    """Ask the service for a drift reconcile (what its timer does) and wait for that new run."""
    before = max((r["id"] for r in session.journal.runs(limit=1)), default=0)
    service_of(session.app).scheduler.drift()
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        runs = [r for r in session.journal.runs(limit=5) if r["id"] > before and r["status"] == "finished"]
        if runs:
            return runs[0]
        time.sleep(0.2)
    raise AssertionError("no drift run finished")


def steps_of(session: LabSession, run: dict[str, Any]) -> list[str]:
    details = session.journal.run(int(run["id"])) or {}
    return [s["step_id"] for s in details.get("steps", [])]


def proxmox(lab: LabSession) -> ProxmoxDriver:
    token_id, secret = next(iter(lab.world.proxmox_state.tokens.items()))
    return ProxmoxDriver(lab.world.proxmox.url, token_id, Secret(secret), ca_bundle=lab.world.proxmox.ca_bundle)


def pve_client(lab: LabSession) -> ProxmoxAPI:
    """Plain proxmoxer with the lab's token: a person at the Proxmox UI, or the calls a killed runner made."""
    token_id, secret = next(iter(lab.world.proxmox_state.tokens.items()))
    user, _, name = token_id.partition("!")
    port = int(lab.world.proxmox.url.rsplit(":", 1)[1])
    return ProxmoxAPI(
        "127.0.0.1",
        port=port,
        user=user,
        token_name=name,
        token_value=secret,
        verify_ssl=str(lab.world.proxmox.ca_bundle),
        backend="https",
    )


def plan_of(lab: LabSession, run: dict[str, object]) -> dict[str, object]:
    details = lab.journal.run(int(run["id"])) or {}  # type: ignore[call-overload]
    return json.loads(details["plan_json"])


@contextmanager
def bootstrapped_lab(workdir: Path, spec: Path | None = None, **overrides: Any) -> Iterator[LabSession]:
    """A lab whose first push (the whole bootstrap of clusters/home, or of `spec` in its place) succeeded;
    stopped on the way out."""
    root = repo_with_spec(workdir / "repo", spec) if spec is not None else REPO_ROOT
    session = start_lab(workdir, root, **overrides)
    try:
        session.seed_clone()
        run = session.wait_for_run(session.push(), timeout=150)
        assert run["result"] == "success", describe(run)
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    # A node that never comes back is given up on after 15 s: the stories below wait for that once.
    with bootstrapped_lab(tmp_path_factory.mktemp("day2"), boot_timeout=15) as session:
        yield session
