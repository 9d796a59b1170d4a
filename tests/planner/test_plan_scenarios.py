"""Scenario files in, expected plan out: steps, reasons, conflicts, notes."""

from __future__ import annotations

import fnmatch
import itertools
from pathlib import Path

import pytest

from tests.planner.scenario import ancestors, load_scenario, run_scenario, step_line

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(path: Path) -> None:
    data = load_scenario(path)
    expect = data["expect"]
    _, _, plan = run_scenario(data)
    lines = [step_line(s) for s in plan.steps]
    wanted = [w.replace("@any", "*") for w in expect.get("steps", [])]
    assert len(lines) == len(wanted), "\n".join(lines)
    for got, want in zip(lines, wanted, strict=True):
        assert fnmatch.fnmatchcase(got, want), f"{got!r} != {want!r}"
    for prefix, reason in (expect.get("reasons") or {}).items():
        step = next(s for s in plan.steps if step_line(s).startswith(prefix))
        assert step.reason == reason
    assert list(plan.conflicts) == expect.get("conflicts", [])
    assert list(plan.notes) == expect.get("notes", [])
    rolling = expect.get("rolling") or []
    for before, after in itertools.pairwise(rolling):
        assert before in plan.step(after).depends_on, f"{after} does not wait for {before}"
    if expect.get("chain"):  # every disruptive step waits (through its drain, at least) for the one before
        disruptive = [s for s in plan.steps if s.disruptive]
        for before, after in itertools.pairwise(disruptive):
            assert before.id in ancestors(plan, after.id), f"{after.id} does not wait for {before.id}"
