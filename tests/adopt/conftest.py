"""One lab per module holding a cluster the runner never built (see foreign.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runner.cli.lab.session import LabSession
from tests.adopt.foreign import Foreign, build_foreign, lab_bundle
from tests.e2e.labkit import start_lab


@pytest.fixture(scope="module")
def foreign_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabSession, Foreign]]:
    session = start_lab(tmp_path_factory.mktemp("adopt"))
    try:
        yield session, build_foreign(session, lab_bundle(session))
    finally:
        session.stop()
