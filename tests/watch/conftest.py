"""Fixtures: a throwaway copy of clusters/home, and the real watcher (watchdog + debouncer) running on it."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runner.engine.commands.watch import ClusterWatch, offline_planner
from tests.watch.workcopy import ROOT, Replans

FLUX = "v2.test"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A working copy holding the reference cluster (cluster.yaml and its encrypted secrets)."""
    shutil.copytree(ROOT / "clusters/home", tmp_path / "clusters/home")
    return tmp_path


@pytest.fixture
def watch(repo: Path) -> Iterator[Callable[..., Replans]]:
    """Starts a ClusterWatch on `repo` with the offline planner; returns what it reports. Stopped after the test."""
    started: list[ClusterWatch] = []

    def start(debounce: float = 0.2) -> Replans:
        replans = Replans()
        watcher = ClusterWatch(repo, "home", offline_planner(FLUX), replans, debounce=debounce)
        watcher.start()
        started.append(watcher)
        return replans

    yield start
    for watcher in started:
        watcher.stop()
