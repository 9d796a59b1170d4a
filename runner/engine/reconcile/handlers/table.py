"""The shape of a handler table: step kind -> function of the run's context and the step."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from runner.core.steps import Kind, Step

if TYPE_CHECKING:
    from runner.engine.reconcile.handlers.context import StepContext

Handler = Callable[["StepContext", Step], str | None]
Handlers = dict[Kind, Handler]
