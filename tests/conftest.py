"""Checks on how the suite itself is run."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis's per-example deadline and its too-slow health check are timed asserts: on a loaded two-core runner
# a slow example fails a property that holds. Speed is measured in bench/, so no property here is timed.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

UNGROUPED = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)  # after xdist's own hook has named each grouped test's group
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup` xdist sends a group to one worker by the `@<group>` it appends to a test's node id.
    When that suffix is missing (pytest-xdist#1386: pytest 9.2 no longer reads the field xdist 3.8 writes), the
    groups silently spread over the workers and every worker builds its own lab: such tests fail at once instead."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
            item.stash[UNGROUPED] = (
                "--dist loadgroup is not grouping: this test's node id carries no @group, so xdist spreads its group"
                " over the workers; use a pytest that this pytest-xdist supports (pytest-xdist#1386)"
            )


@pytest.hookimpl(tryfirst=True)  # before any fixture (a whole lab) is set up
def pytest_runtest_setup(item: pytest.Item) -> None:
    if UNGROUPED in item.stash:
        pytest.fail(item.stash[UNGROUPED], pytrace=False)
