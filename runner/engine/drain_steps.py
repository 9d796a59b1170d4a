"""The drain and uncordon plan steps (mixed into the step runner, which owns the connections and waits)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from runner.core.steps import Step
from runner.engine.drain import drain_node, uncordon_when_ready
from runner.engine.targets import Connections


class DrainSteps:
    conns: Connections
    cancel: threading.Event
    log: Callable[[str], None]

    def _kube(self, endpoint: str | None = None) -> Any: ...

    def _wait(self, check: Callable[[], object], what: str, timeout: float | None = None) -> object: ...

    def _drain_node(self, step: Step) -> str:
        settings = self.conns.settings
        kube = self._kube()
        try:
            return drain_node(
                kube,
                str(step.params["node_name"]),
                timeout=settings.drain_timeout,
                poll=settings.poll_seconds,
                cancel=self.cancel,
                log=self.log,
            )
        finally:
            kube.close()

    def _uncordon_node(self, step: Step) -> str:
        kube = self._kube()
        try:
            return uncordon_when_ready(kube, str(step.params["node_name"]), wait=self._wait)
        finally:
            kube.close()
