"""The runner's own error tree.

Drivers translate their libraries' exceptions into these, so the engine only has to know two things
about a failure: may it go away by itself (`Transient`, retried with backoff) or not (`Permanent`,
stops the run with the message shown to the operator).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class RunnerError(Exception):
    """Base of every error the runner raises on purpose."""


class Transient(RunnerError):
    """A failure that may go away by itself: 5xx, timeouts, connection refused, node still booting."""


class Permanent(RunnerError):
    """A failure that retrying will not fix: bad parameters, missing binaries, wrong keys."""


class Waiting(RunnerError):
    """A step looked and found its target not there yet (a node that ran before and answers no more).

    Not a failure: the step is reported as waiting, with this message; what depends on it does not start,
    and the rest of the run goes on. The next run looks again."""


@dataclass(frozen=True)
class Problem:
    """One problem found in the cluster's files, located as precisely as the loader could."""

    file: str
    line: int | None
    col: int | None
    field: str
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.field}: {self.message}" if self.field else f"{where}: {prefix}{self.message}"


@dataclass
class SpecInvalid(Permanent):
    """The cluster's files do not describe a valid cluster; carries every problem found at once."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class Cancelled(RunnerError):
    """A run stopped because the service is shutting down or newer work superseded it; nothing failed."""


class SecretsError(Permanent):
    """Secrets could not be read or written (no key, wrong key, MAC mismatch, file not encrypted)."""
