"""Plans show what differs in a machine config, with secret values redacted on both sides."""

from __future__ import annotations

import dataclasses

from runner.core.configdiff import config_diff
from runner.core.planner import plan
from runner.core.render import render_markdown
from tests.planner.scenario import converged, desired_for

OLD = [{"machine": {"kubelet": {"image": "ghcr.io/siderolabs/kubelet:v1.32.1"}, "token": "***"}, "version": "v1alpha1"}]
NEW = [{"machine": {"kubelet": {"image": "ghcr.io/siderolabs/kubelet:v1.33.2"}, "token": "***"}, "version": "v1alpha1"}]


def test_diff_lists_changed_leaves_only() -> None:
    assert config_diff(OLD, NEW) == [
        "v1alpha1.machine.kubelet.image: ghcr.io/siderolabs/kubelet:v1.32.1 → ghcr.io/siderolabs/kubelet:v1.33.2"
    ]
    assert config_diff(OLD, OLD) == []


def test_diff_is_bounded_for_review() -> None:
    old = [{"kind": "X", **{f"k{i}": i for i in range(10)}}]
    new = [{"kind": "X", **{f"k{i}": i + 1 for i in range(10)}}]
    lines = config_diff(old, new, limit=3)
    assert len(lines) == 4 and lines[-1] == "… and 7 more"


def test_a_config_step_carries_the_redacted_diff_into_the_markdown_plan() -> None:
    desired = desired_for(None)
    observed = converged(desired)
    node = desired.nodes[3]
    desired = dataclasses.replace(
        desired,
        nodes=tuple(
            dataclasses.replace(n, config_hash="new", config_redacted=NEW) if n is node else n for n in desired.nodes
        ),
    )
    talos = dict(observed.talos)
    talos[node.name] = dataclasses.replace(talos[node.name], config_redacted=OLD)
    p = plan(desired, dataclasses.replace(observed, talos=talos))
    step = p.step(f"node/{node.name}/config")
    assert step.params["changes"] == config_diff(OLD, NEW)
    text = render_markdown(p)
    assert (
        "~ v1alpha1.machine.kubelet.image: ghcr.io/siderolabs/kubelet:v1.32.1 → ghcr.io/siderolabs/kubelet:v1.33.2"
        in text
    )
