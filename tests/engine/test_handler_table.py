"""The step-kind -> handler table: every kind the planner can emit has exactly one handler."""

from __future__ import annotations

import pytest

from runner.core.steps import Kind
from runner.engine.reconcile import handlers
from runner.engine.reconcile.handlers import kube, proxmox, talos

SYSTEMS = {"proxmox": proxmox.HANDLERS, "talos": talos.HANDLERS, "kube": kube.HANDLERS}


@pytest.mark.parametrize("kind", list(Kind))
def test_every_step_kind_has_exactly_one_handler(kind: Kind) -> None:
    owners = [name for name, table in SYSTEMS.items() if kind in table]
    assert len(owners) == 1, f"{kind.value} is handled by {owners or 'no system'}"
    assert handlers.HANDLERS[kind] is SYSTEMS[owners[0]][kind]


def test_the_merged_table_holds_nothing_but_the_step_kinds() -> None:
    assert set(handlers.HANDLERS) == set(Kind)


def test_a_kind_claimed_twice_is_refused_when_the_tables_are_merged() -> None:
    with pytest.raises(RuntimeError, match="create_vm"):
        handlers._merged(proxmox.HANDLERS, {Kind.CREATE_VM: talos.apply_config})
