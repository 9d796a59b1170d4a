"""An offline plan (a fork's PR) sees what an online one sees: the snapshot keeps what the planner reads.

For every scenario, the state is recorded as a run of the protected branch's spec would record it, read
back, and planned with the PR's spec: the plan is the one the live observation gives.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.core.planner import plan
from runner.core.snapshot import observed_from_snapshot, snapshot
from tests.planner.scenario import desired_for, load_scenario, run_scenario

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_planning_against_the_recorded_state_gives_the_live_plan(path: Path) -> None:
    data = load_scenario(path)
    desired, observed, live = run_scenario(data)
    recorded_under = desired_for(data.get("base_spec"))
    picture = snapshot(recorded_under, observed, plan(recorded_under, observed))
    offline = plan(desired, observed_from_snapshot(picture))
    assert offline.to_json() == live.to_json()


def test_nothing_recorded_plans_from_nothing() -> None:
    desired = desired_for(None)
    assert plan(desired, observed_from_snapshot(None)).to_json() == plan(desired, observed_from_snapshot({})).to_json()
    assert [s.kind.value for s in plan(desired, observed_from_snapshot(None)).steps].count("create_vm") == 5
