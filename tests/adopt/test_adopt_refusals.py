"""One refusal per way a spec can fail to describe the running cluster: named, without secrets, nothing written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from runner.cli.lab.session import LabSession
from tests.adopt.foreign import Foreign
from tests.adopt.operator import adopt_json, working_copy
from tests.adopt.test_adopt_report import _writes

SCENARIOS = YAML(typ="safe").load((Path(__file__).parents[1] / "data/adopt/spec_refusals.yaml").read_text())


def _walk(doc: Any, dotted: str) -> tuple[Any, Any]:
    *parents, last = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    for p in parents:
        doc = doc[p]
    return doc, last


def _edit(scenario: dict[str, Any]) -> Any:
    def change(doc: Any) -> None:
        for dotted, value in (scenario.get("set") or {}).items():
            holder, key = _walk(doc, dotted)
            holder[key] = value
        for dotted in scenario.get("unset") or []:
            holder, key = _walk(doc, dotted)
            del holder[key]
        if "name" in scenario:
            doc["name"] = scenario["name"]

    return change


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_adopt_refuses(
    scenario: dict[str, Any],
    foreign_lab: tuple[LabSession, Foreign],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session, foreign = foreign_lab
    cluster = working_copy(session, foreign, tmp_path, _edit(scenario))
    if "name" in scenario:
        cluster = cluster.rename(cluster.parent / scenario["name"])
    if "flux" in scenario:
        path = tmp_path / scenario["flux"]["file"]
        text = path.read_text()
        assert scenario["flux"]["old"] in text
        path.write_text(text.replace(scenario["flux"]["old"], scenario["flux"]["new"]))
    before = _writes(session)
    code, report = adopt_json(session, monkeypatch, cluster)
    expected = re.sub(r"\{mac:([\w-]+)\}", lambda m: foreign.macs[m.group(1)], scenario["refusal"])
    assert expected in report["refusals"]
    assert code == 1
    assert _writes(session) == before
    shown = str(report)
    assert not [s for s in foreign.terraform.secret_values() if s in shown]


def test_no_scenario_is_left_out() -> None:
    assert len({s["id"] for s in SCENARIOS}) == len(SCENARIOS) == 10
    assert shutil.which("sh")  # the lab's talosctl is a shell script
