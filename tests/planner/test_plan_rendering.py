"""What a newcomer reads of a plan: the PR comment (markdown) and `runner plan` on an 80-column terminal.

A long plan folds under a one-line outline, as Terraform plans do in Atlantis comments; each detailed change
says what it changes (a VM's settings or a node's machine config); the terminal never cuts a target short.
"""

from __future__ import annotations

import dataclasses
import re

from runner.core.planner import plan
from runner.core.render import render_markdown
from runner.core.render.terminal import render_terminal
from runner.core.state import Observed
from runner.core.steps import Plan
from tests.planner.scenario import converged, desired_for

OLD = [{"machine": {"sysctls": {"vm.swappiness": "10"}}, "version": "v1alpha1"}]
NEW = [{"machine": {"sysctls": {"vm.swappiness": "60"}}, "version": "v1alpha1"}]


def bootstrap_plan() -> Plan:
    return plan(desired_for(None), Observed())


def resize_plan() -> Plan:
    """talos-worker-01 (VM 303) gets more memory: drain, update the VM (a reboot), uncordon."""
    return plan(desired_for({"nodes.3.memory": 20480}), converged(desired_for(None)))


def config_plan() -> Plan:
    """talos-worker-02's machine config differs from the spec in one sysctl."""
    desired = desired_for(None)
    observed = converged(desired)
    node = desired.node("talos-worker-02")
    changed = dataclasses.replace(node, config_hash="new", config_redacted=NEW)
    desired = dataclasses.replace(desired, nodes=tuple(changed if n is node else n for n in desired.nodes))
    talos = {**observed.talos, node.name: dataclasses.replace(observed.talos[node.name], config_redacted=OLD)}
    return plan(desired, dataclasses.replace(observed, talos=talos))


def between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


# --- the PR comment ------------------------------------------------------------------------------


def test_the_reference_bootstrap_folds_under_a_one_line_outline() -> None:
    text = render_markdown(bootstrap_plan())
    outline = "+5 VMs, 5 configs, bootstrap, Flux install, endpoint to the VIP"
    assert f"<details><summary>{outline}</summary>" in text
    folded = between(text, "<details>", "</details>")
    assert "| 1 | infrastructure | `ensure_image` |" in folded and "| 31 | kubernetes |" in folded
    assert text.index("**31 steps**") < text.index("<details>")  # the count stays in sight


def test_a_short_plan_shows_its_steps_unfolded() -> None:
    text = render_markdown(resize_plan())
    assert "<details>" not in text
    assert "| 2 | infrastructure | `update_vm` :warning: disruptive | `vm/303` |" in text


def test_vm_settings_are_labelled_as_vm_settings_with_old_and_new_values() -> None:
    text = render_markdown(resize_plan())
    assert "Machine config changes" not in text
    block = between(text, "`vm/303` VM settings", "\n```\n")
    assert "~ memory: 16384 MiB → 20480 MiB" in block
    assert re.search(r"~ spec tag: [0-9a-f]{12} → [0-9a-f]{12}", block), block


def test_machine_config_changes_are_labelled_as_machine_config() -> None:
    text = render_markdown(config_plan())
    block = between(text, "`node/talos-worker-02` machine config", "\n```\n")
    assert "~ v1alpha1.machine.sysctls.vm.swappiness: 10 → 60" in block


# --- the terminal ---------------------------------------------------------------------------------


def test_at_80_columns_no_line_is_longer_no_target_is_cut_and_each_step_is_one_line() -> None:
    for p in (bootstrap_plan(), resize_plan(), config_plan()):
        lines = render_terminal(p, width=80).splitlines()
        assert max(len(line) for line in lines) <= 80
        assert not [line for line in lines if "…" in line]
        for i, step in enumerate(p.steps, 1):
            head = re.compile(rf"^ *{i} [ !] {step.kind.value} +{re.escape(step.target)}$")
            heads = [line for line in lines if head.match(line)]
            assert len(heads) == 1, (step.id, lines)


def test_the_terminal_shows_vm_changes_by_value() -> None:
    text = render_terminal(resize_plan(), width=80)
    assert "memory: 16384 MiB → 20480 MiB" in text
    assert "VM settings" in text


def test_a_wide_terminal_keeps_the_table_with_whole_targets() -> None:
    text = render_terminal(bootstrap_plan(), width=200)
    assert "┃ phase" in text and "…" not in text
    assert "image/talos-" in text and "node/talos-worker-02" in text
