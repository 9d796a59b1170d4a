"""Review as change control: a PR gets a plan comment and statuses but changes nothing; merging applies it.

The PR is the lab's own: pushing a branch to the lab's git server makes the forge twin open it and send
the pull_request webhook, and `runner lab merge` (the twin's merge endpoint) merges it into main."""

from __future__ import annotations

from typing import Any

import pytest

from runner.cli.lab.pulls import merge as merge_pull
from runner.cli.lab.session import LabSession

from .labkit import (
    CLUSTER_YAML,
    Home,
    add_node,
    describe,
    edit_cluster,
    load_data,
    managed_vms,
    proxmox_writes,
    queue_empty,
    ready_kube_nodes,
    talos_phases,
    wait_until,
)
from .leaks import leaks

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("pull-request-story")]

PR = 1  # the first pull request the forge twin opens
BRANCH = "add-worker"


def statuses(session: LabSession, commit: str) -> list[str]:
    return [s.state for s in session.world.forge_state.statuses_for(session.settings.full_name, commit)]


def comments(session: LabSession) -> list[Any]:
    return session.world.forge_state.comments_on(session.settings.full_name, PR)


def set_worker_memory(memory: int) -> Any:
    def change(doc: Any) -> None:
        next(n for n in doc["nodes"] if n["name"] == "talos-worker-03")["memory"] = memory

    return change


def test_c_a_pull_request_plans_and_merging_applies(home: Home) -> None:
    session, _ = home
    worker = load_data("worker_03.yaml")
    proxmox = session.world.proxmox_state.calls
    proxmox.reset()

    # Open the PR: a plan, one comment, statuses pending -> success, and nothing applied.
    first = session.commit({CLUSTER_YAML: add_node(session, worker)}, "Add a third worker", branch=BRANCH)
    session.push(BRANCH)  # the forge twin opens PR #1 and sends pull_request "opened"
    assert session.world.forge_state.pulls.deliveries == ["pull_request opened #1: 202"]
    plan = session.wait_for_run(first, mode="plan")
    assert plan["result"] == "success", describe(plan)
    assert plan["pr"] == PR
    [comment] = comments(session)
    first_id, first_body = comment.id, comment.body  # the twin edits comments in place: keep what it said
    assert "talos-worker-03" in first_body and "305" in first_body, first_body
    assert statuses(session, first) == ["pending", "success"]
    assert 305 not in managed_vms(session)
    assert proxmox_writes(proxmox.matching()) == []

    # Push to the PR: the same comment is updated, not a second one.
    second = session.commit(
        {CLUSTER_YAML: edit_cluster(session, set_worker_memory(6144))}, "Smaller worker", branch=BRANCH
    )
    session.push(BRANCH)
    assert session.world.forge_state.pulls.deliveries[-1] == "pull_request synchronized #1: 202"
    replan = session.wait_for_run(second, mode="plan")
    assert replan["result"] == "success", describe(replan)
    [updated] = comments(session)
    assert updated.id == first_id and updated.edits >= 1
    assert updated.body != first_body and "6144" in updated.body, updated.body
    assert statuses(session, second) == ["pending", "success"]
    assert 305 not in managed_vms(session)
    assert proxmox_writes(proxmox.matching()) == []

    # Merge it as `runner lab merge 1` does (main had not moved: a fast-forward): the worker is created and joins.
    assert merge_pull(session.workdir, PR)["sha"] == second
    applied = session.wait_for_run(second)
    assert applied["result"] == "success", describe(applied)
    vm = managed_vms(session)[305]
    assert vm.status == "running" and vm.config["memory"] == "6144"
    assert talos_phases(session)["talos-worker-03"] == "running"
    nodes = wait_until(lambda: n if len(n := ready_kube_nodes(session)) == 6 else None, "6 Ready nodes", 20)
    assert "talos-worker-03" in nodes
    assert statuses(session, second)[-1] == "success"


def test_no_secret_shows_in_plans_comments_or_statuses(home: Home) -> None:
    session, _ = home
    wait_until(lambda: queue_empty(session), "the runner to be idle")
    assert leaks(session) == []
