"""A run's plan as a diff-like view in execution order, and the PR plans list (pure, no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# How a step kind reads in the diff-like plan view: what it does to the cluster. A drain removes nothing: it moves
# a node's pods elsewhere before the node goes down, and an uncordon lets them back once it is Ready again.
_ADDS = {"ensure_image", "create_vm", "start_vm", "apply_config", "install_flux", "bootstrap"}
_REMOVES = {"delete_vm", "stop_vm", "etcd_leave", "delete_k8s_node"}
_WAITS = {"wait_healthy", "wait_flux", "record_handoff", "etcd_snapshot", "await_node"}
_OWN = {"drain_node": "drain", "uncordon_node": "uncordon"}


@dataclass(frozen=True)
class StepView:
    number: int  # its place in the plan, which is the order the executor runs the steps in
    id: str
    kind: str
    phase: str
    target: str
    reason: str
    depends_on: list[str]
    disruptive: bool
    change: str  # add / change / remove / drain / uncordon / wait: the sigil of the diff-like view
    status: str | None  # how the step went in this run, when it ran


@dataclass(frozen=True)
class PlanView:
    available: bool
    steps: list[StepView] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def step_count(self) -> int:
        return len(self.steps)

    @property
    def disruptive_count(self) -> int:
        return sum(1 for s in self.steps if s.disruptive)


def change_of(kind: str) -> str:
    if kind in _OWN:
        return _OWN[kind]
    if kind in _ADDS:
        return "add"
    if kind in _REMOVES:
        return "remove"
    if kind in _WAITS:
        return "wait"
    return "change"


def plan_view(plan_json: str | None, step_status: dict[str, str] | None = None) -> PlanView:
    """The plan's steps in its own order, the one they run in: grouping them by phase would show a drain after
    the VM update it precedes."""
    if not plan_json:
        return PlanView(available=False)
    try:
        data = json.loads(plan_json)
    except ValueError:
        return PlanView(available=False)
    # A damaged or foreign record shows as "no plan", never as an error page.
    if not isinstance(data, dict):
        return PlanView(available=False)
    raw_steps, conflicts, notes = (data.get(key) or [] for key in ("steps", "conflicts", "notes"))
    if not all(isinstance(v, list) for v in (raw_steps, conflicts, notes)) or not all(
        isinstance(s, dict) and isinstance(s.get("depends_on") or [], list) for s in raw_steps
    ):
        return PlanView(available=False)
    status = step_status or {}
    steps = [
        StepView(
            number=i,
            id=str(s.get("id", "?")),
            kind=str(s.get("kind", "?")),
            phase=str(s.get("phase") or "other"),
            target=str(s.get("target", "")),
            reason=str(s.get("reason", "")),
            depends_on=[str(d) for d in s.get("depends_on") or []],
            disruptive=bool(s.get("disruptive")),
            change=change_of(str(s.get("kind", "?"))),
            status=status.get(str(s.get("id"))),
        )
        for i, s in enumerate(raw_steps, 1)
    ]
    return PlanView(
        available=True,
        steps=steps,
        conflicts=[str(c) for c in conflicts],
        notes=[str(n) for n in notes],
    )


def plan_counts(plan_json: str | None) -> str:
    view = plan_view(plan_json)
    if not view.available:
        return "-"
    text = f"{view.step_count} steps"
    if view.disruptive_count:
        text += f", {view.disruptive_count} disruptive"
    if view.conflicts:
        text += f", {len(view.conflicts)} conflicts"
    return text


def latest_plan_per_pr(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest plan run per (cluster, PR); `runs` come newest first, as the journal returns them."""
    seen: set[tuple[str, int]] = set()
    latest = []
    for run in runs:
        if run.get("mode") != "plan" or run.get("pr") is None:
            continue
        key = (str(run["cluster"]), int(run["pr"]))
        if key not in seen:
            seen.add(key)
            latest.append(run)
    return sorted(latest, key=lambda r: (-int(r["pr"]), str(r["cluster"])))
