"""Formatting shared by the pages: times in UTC, durations, short commits, a run's outcome as a word."""

from __future__ import annotations

import time
from typing import Any


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def iso_time(ts: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)) if ts is not None else ""


def fmt_duration(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return "-"
    seconds = max(0.0, end - start)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def short_sha(sha: str | None) -> str:
    return sha[:12] if sha else "-"


def run_outcome(run: dict[str, Any]) -> str:
    """One word for a run, as text (the colour only repeats it)."""
    if run.get("status") != "finished":
        return "running"
    return str(run.get("result") or "unknown")
