"""Fault injection per endpoint and the call log tests read.

A rule matches a method (or "*") and a path glob relative to /api2/json (e.g. "/nodes/*/qemu/*/status/start").
Effects: added latency, an HTTP error for the next N matching calls, a hang (the reply never comes within any
sane client timeout), or making the task the call starts fail with a given log message.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar


@dataclass
class Fault:
    method: str
    path: str
    latency: float = 0.0
    fail_status: int = 0  # e.g. 500, 503: answered instead of the real reply
    fail_count: int = 0  # how many of the next matching calls fail (with fail_status)
    fail_message: str = "fault injected"
    hang: float = 0.0  # seconds to stall before answering at all
    task_error: str | None = None  # the started task fails with this message
    task_error_count: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatch.fnmatchcase(path, self.path)


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # relative to /api2/json
    params: dict[str, Any]
    status: int


T = TypeVar("T")


@dataclass
class _Shared(Generic[T]):
    """A list the twin's request threads and the test thread share, so every read and write takes the lock."""

    items: list[T] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: T) -> T:
        with self._lock:
            self.items.append(item)
        return item

    def clear(self) -> None:
        with self._lock:
            self.items.clear()


class Faults(_Shared[Fault]):
    def latency(self, method: str, path: str) -> float:
        with self._lock:
            return sum(r.latency + r.hang for r in self.items if r.matches(method, path))

    def take_failure(self, method: str, path: str) -> Fault | None:
        """The rule that makes this call fail now, consuming one of its failures."""
        with self._lock:
            for rule in self.items:
                if rule.matches(method, path) and rule.fail_count > 0:
                    rule.fail_count -= 1
                    return rule
        return None

    def take_task_error(self, method: str, path: str) -> str | None:
        with self._lock:
            for rule in self.items:
                if rule.matches(method, path) and rule.task_error and rule.task_error_count > 0:
                    rule.task_error_count -= 1
                    return rule.task_error
        return None


class CallLog(_Shared[Call]):
    record = _Shared.add
    reset = _Shared.clear

    def matching(self, method: str = "*", path: str = "*") -> list[Call]:
        with self._lock:
            return [c for c in self.items if method in ("*", c.method) and fnmatch.fnmatchcase(c.path, path)]
