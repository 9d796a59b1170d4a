"""A spec VM that is stopped while another machine answers at its address: refused, with nothing written.

The operator replaced talos-worker-02 by hand: VM 304 is stopped and VM 399, built from the same image (whose
META gives it 10.0.0.22), runs in its place with 304's disk contents. The spec still names VMID 304, so
adopting would record a machine that is not the spec's VM. (The lab keys a Talos machine by its address, so
the new VM runs the config 304 ran, as a copy of its disk would.) This module's lab is its own: the other
modules' foreign cluster keeps VM 304 running.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.cli.lab.session import LabSession
from tests.adopt import bpg
from tests.adopt.foreign import Foreign, _wait_task
from tests.adopt.operator import adopt_json, working_copy
from tests.adopt.test_adopt_report import _writes
from tests.day2.conftest import pve_client
from tests.polling import poll_until

REPLACEMENT = 399


def _replace_worker(session: LabSession, foreign: Foreign) -> None:
    pve = pve_client(session)
    worker = foreign.resources["talos-worker-02"]
    node, vmid = worker["node_name"], worker["vm_id"]
    _wait_task(pve, node, pve.nodes(node).qemu(vmid).status.stop.post())
    lab = session.world.talos.lab

    def phase(wanted: str) -> bool:
        lab.advance()
        with lab.lock:
            return lab.nodes["10.0.0.22"].phase == wanted

    poll_until(lambda: phase("off"), "10.0.0.22 down with VM 304", timeout=30, interval=0.1)
    # The same resource under another VMID and name, importing the same image (Proxmox picks a new MAC).
    replacement = {**worker, "vm_id": REPLACEMENT, "name": "talos-worker-02-new"}
    params = bpg.vm_create_params(replacement, foreign.images["talos-worker-02"])
    _wait_task(pve, node, pve.nodes(node).qemu.post(**params))
    _wait_task(pve, node, pve.nodes(node).qemu(REPLACEMENT).status.start.post())
    poll_until(lambda: phase("running"), "10.0.0.22 up again, as VM 399", timeout=60, interval=0.1)


def test_an_address_answered_while_the_spec_vm_is_stopped_is_refused(
    foreign_lab: tuple[LabSession, Foreign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, foreign = foreign_lab
    _replace_worker(session, foreign)
    before = _writes(session)
    code, report = adopt_json(session, monkeypatch, working_copy(session, foreign, tmp_path))
    assert report["refusals"] == [
        "talos-worker-02 (10.0.0.22): 10.0.0.22 answers as talos-worker-02 while VM 304 is stopped"
    ]
    assert code == 1
    assert _writes(session) == before
