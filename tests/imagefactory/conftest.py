"""Fixtures: one Image Factory twin served over HTTP on loopback for the whole area, reset per test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runner.drivers.imagefactory import ImageFactoryDriver
from runner.lab.imagefactory import FactoryState, create_app
from runner.lab.serve import RunningServer, serve_in_thread

DATA = Path(__file__).parent / "data"


@dataclass
class Factory:
    url: str
    state: FactoryState


@pytest.fixture(scope="session")
def _factory_server() -> Iterator[tuple[RunningServer, FactoryState]]:
    state = FactoryState()
    server = serve_in_thread(create_app(state))
    yield server, state
    server.stop()


@pytest.fixture
def factory(_factory_server: tuple[RunningServer, FactoryState]) -> Factory:
    server, state = _factory_server
    state.reset()
    return Factory(server.url, state)


@pytest.fixture
def driver(factory: Factory) -> Iterator[ImageFactoryDriver]:
    with ImageFactoryDriver(factory.url, timeout=5.0) as d:
        yield d


def load_json(name: str) -> Any:
    return json.loads((DATA / name).read_text())
