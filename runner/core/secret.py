"""A value that must never be shown: its repr and str are redacted.

Holding secrets in this type (instead of plain str) means an accidental f-string, log call or
pydantic dump prints `***` rather than the value; code that really needs the value calls `reveal()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "***"


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        return str(object.__getattribute__(self, "_value"))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.reveal() == self.reveal()

    def __hash__(self) -> int:
        return hash(("Secret", self.reveal()))

    def __bool__(self) -> bool:
        return bool(self.reveal())

    def __reduce__(self) -> Any:
        # Pickling would be a way to leak into caches and queues; refuse it.
        raise TypeError("Secret values are not picklable")


def reveal_tree(value: Any) -> Any:
    """Deep copy of a structure with every Secret replaced by its value (for writing configs)."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, Mapping):
        return {k: reveal_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [reveal_tree(v) for v in value]
    return value


def secret_values(value: Any) -> Iterable[str]:
    """Every secret string inside a structure, for redaction filters."""
    if isinstance(value, Secret):
        if value.reveal():
            yield value.reveal()
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from secret_values(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from secret_values(v)


class Redactor:
    """Replaces every known secret value in text; the one filter logs, plans and comments pass through."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first so a secret that contains another is replaced whole.
        self._values = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def add(self, secrets: Iterable[str]) -> None:
        self._values = sorted(set(self._values) | {s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text
