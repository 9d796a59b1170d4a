"""The operator's side of an adoption: a working copy whose cluster.yaml describes the foreign cluster, and the
`runner adopt` command run on it (in-process, through the real CLI, against the lab's twins)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner, Result

from runner.cli.lab.session import LabSession
from runner.cli.main import app
from tests.adopt.foreign import Foreign

COPIED = (".sops.yaml", "schemas", "flux", "clusters/home")


def working_copy(
    session: LabSession, foreign: Foreign, dest: Path, change: Callable[[Any], None] | None = None
) -> Path:
    """clusters/home as the operator writes it for the cluster they have: the MACs Terraform's provider picked
    pinned per node, Talos's own VIP; `change` edits the parsed cluster.yaml further (a scenario)."""
    for rel in COPIED:
        src = session.repo_root / rel
        if src.is_dir():
            shutil.copytree(src, dest / rel)
        else:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest / rel)
    yaml = YAML()
    yaml.width = 4096
    path = dest / "clusters/home/cluster.yaml"
    doc = yaml.load(path.read_text())
    doc["network"]["vipOwner"] = "talos"
    for node in doc["nodes"]:
        node["mac"] = foreign.macs[node["name"]]
    if change is not None:
        change(doc)
    with path.open("w") as out:
        yaml.dump(doc, out)
    return dest / "clusters/home"


def run_adopt(session: LabSession, monkeypatch: pytest.MonkeyPatch, cluster: Path, *args: str) -> Result:
    monkeypatch.setenv("RUNNER_CONFIG", str(session.config_file))
    return CliRunner().invoke(app, ["adopt", str(cluster), *args])


def adopt_json(session: LabSession, monkeypatch: pytest.MonkeyPatch, cluster: Path) -> tuple[int, dict[str, Any]]:
    result = run_adopt(session, monkeypatch, cluster, "-o", "json")
    assert result.exit_code in (0, 1), result.output
    assert result.stdout.startswith("{"), result.output
    return result.exit_code, json.loads(result.stdout)
