"""An apply with a pull request's borrowed connection targets, or planned offline, is refused by the engine itself.

Such a run only plans: its targets come from the protected branch (or nothing is contacted at all), while its
desired state comes from a commit nobody merged. Whatever a caller asks, the engine refuses before it loads,
observes or changes anything, so not even the protected branch's Proxmox hears of it.
"""

from __future__ import annotations

from typing import Any

import pytest

from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.reconcile.outcome import NullReporter
from runner.engine.reconcile.reconciler import Engine
from runner.engine.reconcile.source import DirSource
from tests.engine.twins import engine_settings

REFUSAL = "refusing to apply: a run with borrowed connection targets only plans"


@pytest.mark.parametrize(
    "borrowed",
    [
        {"targets_from": "protected"},
        {"offline": "a pull request from a fork"},
        {"targets_from": "protected", "offline": "a pull request from a fork"},
    ],
    ids=["protected-branch-targets", "offline", "both"],
)
def test_an_apply_with_borrowed_targets_or_offline_is_refused_before_anything(
    repo, proxmox, factory, tmp_path, borrowed: dict[str, Any]
) -> None:
    settings = engine_settings(tmp_path, proxmox, factory, max_parallel_steps=1)
    store = ClusterStateStore(settings.db_path)
    engine = Engine(settings, store)
    kwargs = {**borrowed, "targets_from": DirSource(repo)} if "targets_from" in borrowed else borrowed
    plans: list[object] = []
    proxmox.state.calls.reset()

    outcome = engine.reconcile(
        DirSource(repo), "home", apply=True, reporter=NullReporter(), on_plan=plans.append, **kwargs
    )

    assert (outcome.error, outcome.plan, outcome.result, plans) == (REFUSAL, None, None, [])
    assert proxmox.state.calls.matching() == []  # not a single request, let alone a VM
    assert proxmox.state.vms == {} and store.snapshot("home") is None
    # The same run as a plan is what such a run is for: it plans (online from the protected targets, or offline).
    planned = engine.reconcile(DirSource(repo), "home", apply=False, reporter=NullReporter(), **kwargs)
    assert planned.error is None and planned.plan is not None and planned.plan.steps
