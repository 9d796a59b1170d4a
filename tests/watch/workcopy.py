"""Helpers for watch tests: saving edits to the working copy, finding lines, reading what the watcher reported."""

from __future__ import annotations

import queue
from pathlib import Path

from runner.engine.commands.watch import Replan

ROOT = Path(__file__).resolve().parents[2]
SPEC = "clusters/home/cluster.yaml"
WAIT = 30.0  # liveness bound only: how long a re-plan may take to show up on a busy machine


class Replans:
    """Collects what the watcher reports, in order."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Replan] = queue.Queue()

    def __call__(self, replan: Replan) -> None:
        self._queue.put(replan)

    def next(self) -> Replan:
        try:
            return self._queue.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"no re-plan within {WAIT:.0f}s") from None


def edit(repo: Path, old: str, new: str, count: int = 1) -> None:
    """Save the spec with `old` replaced, the way an editor writing in place does."""
    spec = repo / SPEC
    text = spec.read_text()
    assert old in text, f"{old!r} is not in {SPEC}"
    spec.write_text(text.replace(old, new, count))


def line_of(repo: Path, prefix: str) -> int:
    """1-based number of the first line of the spec that starts with `prefix`."""
    lines = (repo / SPEC).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(prefix))


def reasons(replan: Replan) -> list[str]:
    assert replan.plan is not None, f"expected a plan, got problems: {replan.problems}"
    return [step.reason for step in replan.plan.steps]
