"""The one redaction boundary: everything a run reports leaves the engine through the run's Redactor.

The engine registers a run's secrets (the decrypted secrets file, the secret fields of every rendered machine
config) with the run's Redactor, then wraps whatever reporter it was given, so a CLI line, a journal line, a
live listener's event and the run's outcome all carry redacted text, whatever a driver's error echoed. Log
records pass the same redactors: every record's message (and traceback) is redacted with the Redactors of
the runs still going and of the last few finished ones, whose secrets a late log line may still carry.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import deque
from typing import Any

from runner.core.secret import Redactor
from runner.core.steps import Plan, Step
from runner.engine.reconcile.configs import NodeConfig
from runner.engine.reconcile.executor import Reporter
from runner.engine.reconcile.load import LoadedCluster


def register_secrets(redactor: Redactor, loaded: LoadedCluster, configs: dict[str, NodeConfig]) -> None:
    """Every secret this run handles, known to the run's one redactor before anything is reported."""
    assert loaded.secrets is not None
    redactor.add(loaded.secrets.values())
    for cfg in configs.values():
        redactor.add(cfg.secrets)


class RedactingReporter:
    """A Reporter that redacts every text before passing it on."""

    def __init__(self, inner: Reporter, redactor: Redactor) -> None:
        self.inner, self.redactor = inner, redactor

    def step_started(self, step: Step) -> None:
        self.inner.step_started(redacted_step(step, self.redactor))

    def step_finished(self, step: Step, status: str, message: str, seconds: float) -> None:
        self.inner.step_finished(redacted_step(step, self.redactor), status, self.redactor(message), seconds)

    def log(self, message: str) -> None:
        self.inner.log(self.redactor(message))


def _redacted_value(value: Any, red: Redactor) -> Any:
    if isinstance(value, str):
        return red(value)
    if isinstance(value, list | tuple):
        return type(value)(_redacted_value(v, red) for v in value)
    if isinstance(value, dict):
        return {k: _redacted_value(v, red) for k, v in value.items()}
    return value


def redacted_step(step: Step, red: Redactor) -> Step:
    return dataclasses.replace(step, reason=red(step.reason), params=_redacted_value(step.params, red))


def redacted_plan(plan: Plan, red: Redactor) -> Plan:
    return dataclasses.replace(
        plan,
        steps=tuple(redacted_step(s, red) for s in plan.steps),
        conflicts=tuple(red(c) for c in plan.conflicts),
        notes=tuple(red(n) for n in plan.notes),
        after_merge=tuple(red(a) for a in plan.after_merge),
    )


class _LogRedaction:
    """A log-record factory that redacts each record's message with the Redactors of recent runs."""

    def __init__(self, keep: int = 16) -> None:
        self._redactors: deque[Redactor] = deque(maxlen=keep)  # more runs at once than workers is not a thing
        self._lock = threading.Lock()
        self._installed = False

    def watch(self, redactor: Redactor) -> None:
        with self._lock:
            if not any(r is redactor for r in self._redactors):
                self._redactors.append(redactor)
            if not self._installed:
                previous = logging.getLogRecordFactory()

                def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                    return self._redact(previous(*args, **kwargs))

                logging.setLogRecordFactory(factory)
                self._installed = True

    def _redact(self, record: logging.LogRecord) -> logging.LogRecord:
        with self._lock:
            redactors = list(self._redactors)
        if not redactors:
            return record
        text = record.getMessage()
        trace = logging.Formatter().formatException(record.exc_info) if record.exc_info else None
        for red in redactors:
            text = red(text)
            trace = red(trace) if trace else trace
        record.msg, record.args = text, None
        if trace:
            record.exc_text = trace  # formatters print the cached text instead of formatting the exception again
        return record


LOG_REDACTION = _LogRedaction()
