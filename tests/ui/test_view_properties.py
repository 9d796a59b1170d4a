"""Invariants of the view models, over generated plans and nodes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from runner.core.steps import PHASE_OF, Kind
from runner.server.ui.clusterview import node_status
from runner.server.ui.planview import PlanView, latest_plan_per_pr, plan_view

steps = st.lists(
    st.builds(
        lambda kind, n, disruptive: {
            "id": f"{kind.value}/{n}",
            "kind": kind.value,
            "phase": PHASE_OF[kind].value,
            "target": f"t/{n}",
            "reason": f"because {n}",
            "depends_on": [],
            "disruptive": disruptive,
        },
        st.sampled_from(list(Kind)),
        st.integers(0, 10_000),
        st.booleans(),
    ),
    max_size=40,
    unique_by=lambda s: s["id"],
)


@given(steps)
def test_plan_view_keeps_every_step_once_in_the_plans_own_order(raw: list[dict[str, Any]]) -> None:
    view = plan_view(json.dumps({"cluster": "c", "steps": raw, "conflicts": [], "notes": []}))
    # The plan's order is the executor's (every step after those it depends on): the view never regroups it.
    assert [(s.number, s.id, s.phase) for s in view.steps] == [(i, s["id"], s["phase"]) for i, s in enumerate(raw, 1)]
    assert view.disruptive_count == sum(s["disruptive"] for s in raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["steps", "conflicts", "notes", "id", "kind", "phase", "depends_on"]), inner, max_size=4
        )
    ),
    max_leaves=12,
)


def _is_plan(value: Any) -> bool:
    """What the view shows as a plan: an object whose steps are objects and whose lists are lists."""
    if not isinstance(value, dict):
        return False
    steps = value.get("steps") or []
    lists = [steps, value.get("conflicts") or [], value.get("notes") or []]
    return (
        all(isinstance(v, list) for v in lists)
        and all(isinstance(s, dict) for s in steps)
        and all(isinstance(s.get("depends_on") or [], list) for s in steps)
    )


@given(st.text(max_size=30) | json_values.map(json.dumps))
@example('{"steps": [{"id": "a", "depends_on": 1}]}')
@example('{"steps": "ab"}')
def test_a_damaged_plan_is_shown_as_unavailable_and_never_fails(text: str) -> None:
    try:
        expected = _is_plan(json.loads(text))
    except ValueError:
        expected = False
    view = plan_view(text)
    assert view.available is expected
    if not expected:
        assert view == PlanView(available=False)


nodes = st.fixed_dictionaries(
    {
        "vm": st.sampled_from(["running", "stopped", "paused", "absent", None]),
        "talos": st.sampled_from(["running", "maintenance", "booting", "unreachable", None]),
        "in_sync": st.booleans(),
    }
)


@given(nodes)
def test_ready_means_vm_and_talos_running_and_in_sync(node: dict[str, Any]) -> None:
    label, tone = node_status(node)
    expected = node["vm"] == "running" and node["talos"] == "running" and node["in_sync"]
    assert (label == "Ready") == expected
    assert (tone == "ok") == expected
    assert label  # always a word, never colour alone


runs = st.lists(
    st.fixed_dictionaries(
        {
            "cluster": st.sampled_from(["a", "b"]),
            "pr": st.one_of(st.none(), st.integers(1, 4)),
            "mode": st.sampled_from(["plan", "apply"]),
        }
    ),
    max_size=30,
)


@given(runs)
def test_pr_plans_are_the_newest_plan_per_cluster_and_pr(raw: list[dict[str, Any]]) -> None:
    newest_first = [dict(r, id=len(raw) - i) for i, r in enumerate(raw)]
    latest = latest_plan_per_pr(newest_first)
    keys = [(r["cluster"], r["pr"]) for r in latest]
    assert len(keys) == len(set(keys))
    for run in latest:
        rivals = [
            r["id"] for r in newest_first if (r["cluster"], r["pr"], r["mode"]) == (run["cluster"], run["pr"], "plan")
        ]
        assert run["id"] == max(rivals)
    assert set(keys) == {(r["cluster"], r["pr"]) for r in raw if r["mode"] == "plan" and r["pr"] is not None}
