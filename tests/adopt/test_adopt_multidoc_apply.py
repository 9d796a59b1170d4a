"""`runner adopt --apply --confirm <digest>` and the first reconcile on the foreign cluster running Talos v1.13.9
(Kubernetes v1.36.3, multi-document configs, Talos's own VIP in a Layer2VIPConfig): only VM tags change, and the
first reconcile takes nothing down. This module's lab is its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.cli.lab.session import LabSession
from tests.adopt.conftest import foreign_cluster
from tests.adopt.foreign import Foreign
from tests.adopt.operator import working_copy
from tests.adopt.terraform import spec_text
from tests.adopt.test_adopt_apply import adopt_then_reconcile


@pytest.fixture(scope="module")
def foreign_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabSession, Foreign]]:
    yield from foreign_cluster(tmp_path_factory, spec_text("v1.13.9", "v1.36.3"))


def test_a_talos_v1_13_cluster_is_adopted_and_reconciled_without_a_disruption(
    foreign_lab: tuple[LabSession, Foreign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, foreign = foreign_lab
    adopt_then_reconcile(session, working_copy(session, foreign, tmp_path), monkeypatch)
