"""Step kind -> handler, one table per outside system, merged into one checked-complete table.

The executor calls a `StepRunner` with each step; it looks the step's kind up in `HANDLERS` (a table, not a
method name built from a string) and passes the run's context to the handler.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.core.steps import Kind, Step
from runner.engine.reconcile.handlers import kube, proxmox, talos
from runner.engine.reconcile.handlers.context import StepContext
from runner.engine.reconcile.handlers.table import Handler, Handlers


def _merged(*tables: Handlers) -> Handlers:
    merged: Handlers = {}
    for table in tables:
        twice = merged.keys() & table.keys()
        if twice:  # a kind two systems claim is a wiring mistake: fail at import, not mid-run
            raise RuntimeError(f"step kinds with two handlers: {sorted(twice)}")
        merged |= table
    return merged


HANDLERS: Handlers = _merged(proxmox.HANDLERS, talos.HANDLERS, kube.HANDLERS)


@dataclass
class StepRunner(StepContext):
    """The executor's handler: one run's context, dispatching each step through `HANDLERS`."""

    def __call__(self, step: Step) -> str | None:
        return HANDLERS[step.kind](self, step)


__all__ = ["HANDLERS", "Handler", "Kind", "StepContext", "StepRunner"]
