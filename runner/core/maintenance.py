"""Maintenance windows: when disruptive steps may start (pure; the clock is an argument).

A window is weekdays + a wall-clock start in a time zone + a duration, so "Sat 02:00 Europe/Berlin for 4h"
stays 02:00 local across daylight-saving changes. A disruptive step starts only if a whole node's budget
(`nodeMinutes`) still fits before the window closes: a node is never left half-done when the window ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from runner.core.spec import Maintenance, MaintenanceWindow

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Opening:
    start: dt.datetime
    end: dt.datetime


def _openings(window: MaintenanceWindow, since: dt.datetime, days_ahead: int = 8) -> Iterator[Opening]:
    """Every opening of `window` that ends after `since`, in start order, for about a week ahead."""
    zone = ZoneInfo(window.time_zone)
    local = since.astimezone(zone)
    hour, minute = (int(p) for p in window.start.split(":"))
    length = window.length
    for offset in range(-1, days_ahead):  # -1: an opening that began yesterday may still be open
        day = local.date() + dt.timedelta(days=offset)
        if DAYS[day.weekday()] not in window.days:
            continue
        start = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
        end = (start.astimezone(dt.UTC) + length).astimezone(zone)
        if end > since:
            yield Opening(start, end)


def openings(maintenance: Maintenance, since: dt.datetime) -> list[Opening]:
    return sorted((o for w in maintenance.windows for o in _openings(w, since)), key=lambda o: o.start)


@dataclass(frozen=True)
class Verdict:
    """May a disruptive step start now? If not, `until` is when the next usable opening starts."""

    may_start: bool
    until: dt.datetime | None = None

    def reason(self) -> str:
        if self.may_start or self.until is None:
            return ""
        when = self.until.isoformat(timespec="minutes")
        return f"waiting for the maintenance window at {when} ({self.until.tzname()})"


def disruption_verdict(maintenance: Maintenance | None, now: dt.datetime) -> Verdict:
    if maintenance is None:
        return Verdict(True)
    budget = dt.timedelta(minutes=maintenance.node_minutes)
    for opening in openings(maintenance, now):
        begin = max(opening.start, now)
        if begin + budget <= opening.end:
            return Verdict(begin <= now, None if begin <= now else opening.start)
    raise ValueError("no maintenance window within a week fits nodeMinutes")  # the spec model prevents this
