"""The operator's schematic for talos-worker-02 lacks the guest agent the spec lists: `runner adopt` reports that
node as a schematic upgrade that reboots (not a refusal), `--apply` takes the cluster over as it runs, and the
first plan after it holds the upgrade until the spec sets `adoption.rollout: true`. This module's lab is its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.cli.lab.session import LabSession
from runner.engine.reconcile.local import plan_live
from tests.adopt.conftest import foreign_cluster
from tests.adopt.foreign import Foreign, ForeignOptions
from tests.adopt.operator import adopt_json, run_adopt, working_copy
from tests.adopt.schematics import post_schematic, schematic
from tests.adopt.terraform import nodes, spec
from tests.adopt.test_adopt_apply import _machines
from tests.adopt.test_adopt_report import NODES

BARE = "talos-worker-02"


@pytest.fixture(scope="module")
def foreign_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabSession, Foreign]]:
    yield from foreign_cluster(tmp_path_factory, opts=ForeignOptions(bare_nodes=frozenset({BARE})))


def _described(session: LabSession) -> str:
    """The id of the schematic the spec describes for the node (with the guest agent), as the factory gives it."""
    doc = spec(session.repo_root / "clusters/home/cluster.yaml")
    (node,) = [n for n in nodes(doc) if n.name == BARE]
    return post_schematic(session.world.factory.url, schematic(doc, node, "eth0"))


def _rollout(doc: Any) -> None:
    doc["adoption"] = {"rollout": True}


def test_a_schematic_the_spec_does_not_describe_is_an_upgrade_held_until_rollout(
    foreign_lab: tuple[LabSession, Foreign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, foreign = foreign_lab
    cluster = working_copy(session, foreign, tmp_path / "spec")
    code, report = adopt_json(session, monkeypatch, cluster)
    assert (code, report["refusals"]) == (0, [])
    assert [(n["name"], n["reboot"]) for n in report["nodes"]] == [(n, n == BARE) for n in NODES]
    (bare,) = [n for n in report["nodes"] if n["name"] == BARE]
    described = _described(session)
    assert foreign.schematics[BARE] != described
    assert bare["schematic"] == f"{foreign.schematics[BARE]} → {described} (upgrade, reboots)"
    assert {n["schematic"] for n in report["nodes"] if n["name"] != BARE} == {"same"}
    machines = _machines(session)
    result = run_adopt(session, monkeypatch, cluster, "--apply", "--confirm", report["digest"])
    assert result.exit_code == 0, result.output
    assert _machines(session) == machines

    # The first plan of the adopted cluster: the upgrade is reported and held, nothing takes a node down.
    monkeypatch.setenv("RUNNER_CONFIG", str(session.config_file))
    plan = plan_live(cluster.parents[1], "home")
    assert plan.conflicts == ()
    assert [s.id for s in plan.steps if s.disruptive] == []
    # Its config differs only in the installer the held upgrade names: that moves with the upgrade, so nothing
    # is written to the node and it keeps running the operator's schematic as built.
    assert [s.id for s in plan.steps if BARE in s.id] == []
    held = f"{BARE}: schematic {foreign.schematics[BARE][:12]}→{described[:12]} held: needs adoption.rollout"
    assert [n for n in plan.notes if n.startswith(f"{BARE}:")] == [
        f"{held} (an upgrade reboots it)",
        f"{BARE}: machine config (machine.install.image) held with the upgrade",
    ]

    # Once the spec opts in, the same difference is an upgrade of that node alone: drained, then rebooted.
    opted = working_copy(session, foreign, tmp_path / "rollout", _rollout)
    plan = plan_live(opted.parents[1], "home")
    assert [(s.kind.value, s.target) for s in plan.steps if s.disruptive] == [
        ("drain_node", f"node/{BARE}"),
        ("upgrade_talos", f"node/{BARE}"),
    ]
