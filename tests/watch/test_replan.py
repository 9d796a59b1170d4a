"""Every save re-validates and re-plans: the plan follows the spec, problems point at file:line:col."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.watch.workcopy import SPEC, Replans, edit, line_of, reasons


def test_plans_once_at_start_from_an_empty_observed_state(watch: Callable[..., Replans]) -> None:
    first = watch().next()
    assert (first.number, first.changed, first.problems) == (1, (), ())
    assert "create VM 300 talos-cp-01: 4 cores, 8192 MiB, 64 GiB" in " ".join(reasons(first))
    created = [s.target for s in first.plan.steps if s.kind.value == "create_vm"] if first.plan else []
    assert created == ["vm/300", "vm/301", "vm/302", "vm/303", "vm/304"]


def test_memory_change_shows_in_the_next_plan(repo: Path, watch: Callable[..., Replans]) -> None:
    replans = watch()
    replans.next()
    edit(repo, "    memory: 16384", "    memory: 24576")  # talos-worker-01
    second = replans.next()
    assert (second.number, second.changed) == (2, (SPEC,))
    text = " ".join(reasons(second))
    assert "create VM 303 talos-worker-01: 4 cores, 24576 MiB" in text
    assert "create VM 304 talos-worker-02: 4 cores, 16384 MiB" in text


def test_broken_yaml_prints_file_line_col_and_keeps_watching(repo: Path, watch: Callable[..., Replans]) -> None:
    replans = watch()
    first = replans.next()
    line = line_of(repo, "  node: atlas")
    edit(repo, "  node: atlas", " node: atlas")  # one space short: no longer inside `proxmox:`
    broken = replans.next()
    assert broken.plan is None
    assert len(broken.problems) == 1
    assert broken.problems[0].startswith(f"{SPEC}:{line}:2: invalid YAML")

    edit(repo, " node: atlas", "  node: atlas")
    fixed = replans.next()
    assert (fixed.number, fixed.problems) == (3, ())
    assert reasons(fixed) == reasons(first)


def the_problem_of_an_edit(repo: Path, watch: Callable[..., Replans], old: str, new: str) -> tuple[int, str]:
    """Watch, then save the line starting `old` as `new`: that line's number and the one problem reported."""
    replans = watch()
    replans.next()
    line = line_of(repo, old)
    edit(repo, old, new)
    (problem,) = replans.next().problems
    return line, problem


def test_wrong_type_points_at_the_field(repo: Path, watch: Callable[..., Replans]) -> None:
    line, problem = the_problem_of_an_edit(repo, watch, "    memory: 8192", "    memory: lots")
    assert problem.startswith(f"{SPEC}:{line}:5: nodes[0].memory: 'lots'")


def test_semantic_problem_names_the_conflicting_node(repo: Path, watch: Callable[..., Replans]) -> None:
    line, problem = the_problem_of_an_edit(repo, watch, "    ip: 10.0.0.12", "    ip: 10.0.0.11")
    assert problem == f"{SPEC}:{line}:5: nodes[1].ip: 10.0.0.11 is already used by talos-cp-01"
