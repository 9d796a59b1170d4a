"""One lab per module holding a cluster the runner never built (see foreign.py), in the operator's repository
(see operator.py): the lab runs on the secrets `runner init` imported from the Terraform that built it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from runner.cli.lab.session import LabSession
from runner.lab.world_inputs import Pace
from tests.adopt.foreign import Foreign, ForeignOptions, build_foreign
from tests.adopt.operator import operator_repo
from tests.adopt.terraform import Terraform
from tests.e2e.labkit import FAST_SETTINGS


def foreign_cluster(
    tmp_path_factory: pytest.TempPathFactory, spec: str | None = None, opts: ForeignOptions | None = None
) -> Iterator[tuple[LabSession, Foreign]]:
    terraform = Terraform.apply()
    root = operator_repo(tmp_path_factory.mktemp("operator"), terraform, spec)
    session = LabSession(root, tmp_path_factory.mktemp("adopt"), pace=Pace.fast(), settings_overrides=FAST_SETTINGS)
    session.start()
    foreign = None
    try:
        foreign = build_foreign(session, terraform, opts)
        yield session, foreign
    finally:
        session.stop()
        if foreign is not None:
            shutil.rmtree(foreign.talosconfig.parent, ignore_errors=True)  # the client key and kubeconfig


@pytest.fixture(scope="module")
def foreign_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabSession, Foreign]]:
    yield from foreign_cluster(tmp_path_factory)
