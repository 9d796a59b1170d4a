"""Maintenance windows: hand-worked scenarios from a data file, and invariants over any moment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from runner.core.errors import SpecInvalid
from runner.core.maintenance import disruption_verdict, openings
from runner.core.spec import Maintenance
from runner.core.validate import validate_text

SCENARIOS: list[dict[str, Any]] = YAML(typ="safe").load((Path(__file__).parent / "windows.yaml").read_text())
REFERENCE = Path(__file__).parents[2] / "clusters" / "home" / "cluster.yaml"


@pytest.mark.parametrize("case", SCENARIOS, ids=[c["name"] for c in SCENARIOS])
def test_scenario(case: dict[str, Any]) -> None:
    maintenance = Maintenance.model_validate(case["maintenance"])
    verdict = disruption_verdict(maintenance, dt.datetime.fromisoformat(case["now"]))
    assert verdict.may_start is case["may_start"]
    if case["may_start"]:
        assert verdict.until is None
    else:
        assert verdict.until is not None
        assert verdict.until.isoformat() == case["until"]
        minutes = case["until"][:16] + case["until"][19:]  # the same moment without its seconds
        assert verdict.reason() == f"waiting for the maintenance window at {minutes} ({verdict.until.tzname()})"


def test_no_windows_means_no_waiting() -> None:
    assert disruption_verdict(None, dt.datetime(2026, 12, 1, tzinfo=dt.UTC)).may_start is True


ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
windows = st.builds(
    lambda days, h, m, dur, zone: {"days": days, "start": f"{h:02d}:{m:02d}", "duration": f"{dur}m", "timeZone": zone},
    st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), min_size=1, max_size=7, unique=True),
    st.integers(0, 23),
    st.sampled_from([0, 15, 30, 45]),
    st.integers(60, 600),
    st.sampled_from(ZONES),
)
moments = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(dt.UTC)
)


@settings(max_examples=150, deadline=None)
@given(st.lists(windows, min_size=1, max_size=3), st.integers(1, 60), moments)
def test_a_step_starts_only_when_a_whole_node_fits_and_waits_for_the_first_moment_it_does(
    spec: list[dict[str, Any]], budget: int, now: dt.datetime
) -> None:
    maintenance = Maintenance.model_validate({"windows": spec, "nodeMinutes": budget})
    need = dt.timedelta(minutes=budget)
    fits = [o for o in openings(maintenance, now) if max(o.start, now) + need <= o.end]
    verdict = disruption_verdict(maintenance, now)
    if verdict.may_start:
        assert any(o.start <= now and now + need <= o.end for o in fits)
    else:
        assert verdict.until is not None and verdict.until > now
        assert not any(o.start <= now and now + need <= o.end for o in fits)
        assert disruption_verdict(maintenance, verdict.until).may_start  # it really opens then
        # Nothing usable in between: a minute before the announced start still waits for it.
        assert disruption_verdict(maintenance, verdict.until - dt.timedelta(minutes=1)).until == verdict.until


def _with(maintenance: str) -> str:
    return REFERENCE.read_text().replace("drift: correct\n", "drift: correct\n" + maintenance)


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        (
            "maintenance:\n  windows:\n    - days: [sat]\n      start: '02:00'\n      duration: 4h\n"
            "      timeZone: Mars/Olympus\n",
            "maintenance.windows[0].timeZone: 'Mars/Olympus': 'Mars/Olympus' is not an IANA time zone",
        ),
        (
            "maintenance:\n  windows:\n    - days: [sat]\n      start: '25:00'\n      duration: 4h\n",
            "maintenance.windows[0].start: '25:00': not a 24-hour time HH:MM such as '02:00'",
        ),
        (
            "maintenance:\n  nodeMinutes: 120\n  windows:\n"
            "    - days: [sat]\n      start: '02:00'\n      duration: 1h\n",
            "window 1h is shorter than nodeMinutes (120)",
        ),
        (
            "maintenance:\n  windows:\n    - days: [caturday]\n      start: '02:00'\n      duration: 1h\n",
            "maintenance.windows[0].days[0]: 'caturday': Input should be 'mon', 'tue'",
        ),
    ],
    ids=["unknown zone", "bad start", "window shorter than a node", "bad day"],
)
def test_bad_windows_are_refused_with_file_and_line(fragment: str, expected: str) -> None:
    text = _with(fragment)
    with pytest.raises(SpecInvalid) as err:
        validate_text(text, "clusters/home/cluster.yaml")
    message = str(err.value)
    assert expected in message, message
    line = text.splitlines().index("maintenance:") + 1
    assert any(f"clusters/home/cluster.yaml:{n}:" in message for n in range(line, line + 7)), message
