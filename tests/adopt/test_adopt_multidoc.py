"""The foreign cluster on Talos v1.13.9 (Kubernetes v1.36.3, its default): configs in the multi-document form,
the operator's patches as HostnameConfig, LinkConfig, ResolverConfig and Layer2VIPConfig documents
(tests/data/adopt/terraform/*-multidoc.yaml.tftpl). `runner adopt` finds nothing to change and writes nothing;
then `--apply --confirm <digest>` changes only VM tags and the first reconcile takes nothing down. One test, so
the read-only report always comes before the writes on the module's one lab."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.cli.lab.session import LabSession
from tests.adopt.conftest import foreign_cluster
from tests.adopt.foreign import Foreign
from tests.adopt.operator import adopt_json, working_copy
from tests.adopt.terraform import spec_text
from tests.adopt.test_adopt_apply import adopt_then_reconcile
from tests.adopt.test_adopt_report import NODES, _writes


@pytest.fixture(scope="module")
def foreign_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabSession, Foreign]]:
    yield from foreign_cluster(tmp_path_factory, spec_text("v1.13.9", "v1.36.3"))


def test_a_talos_v1_13_cluster_is_adoptable_as_it_runs_and_adopted_without_a_disruption(
    foreign_lab: tuple[LabSession, Foreign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, foreign = foreign_lab
    lab = session.world.talos.lab
    with lab.lock:
        kinds = {ip: [d.get("kind") for d in n.config.documents] for ip, n in lab.nodes.items() if n.config}
    assert kinds["10.0.0.11"] == [None, "HostnameConfig", "LinkConfig", "ResolverConfig", "Layer2VIPConfig"]
    assert kinds["10.0.0.21"] == [None, "HostnameConfig", "LinkConfig", "ResolverConfig"]
    before = _writes(session)
    code, report = adopt_json(session, monkeypatch, working_copy(session, foreign, tmp_path / "report"))
    assert (code, report["refusals"]) == (0, [])
    assert [(n["name"], n["reboot"], n["config"], n["vm"]) for n in report["nodes"]] == [
        (n, False, [], []) for n in NODES
    ]
    assert {n["talos"] for n in report["nodes"]} == {"Applied configuration without a reboot"}
    assert {(n["version"], n["schematic"]) for n in report["nodes"]} == {("same", "same")}
    assert report["endpoint"] == "https://10.0.0.20:6443"
    assert _writes(session) == before

    adopt_then_reconcile(session, working_copy(session, foreign, tmp_path / "apply"), monkeypatch)
