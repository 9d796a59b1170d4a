"""The operator's side of an adoption: a repository made the way the README tells them (the spec of the cluster
they have, then `runner init --talos-secrets` with their Terraform's output), working copies of it whose
cluster.yaml a scenario edits, and the `runner adopt` command run on them (in-process, through the real CLI,
against the lab's twins)."""

from __future__ import annotations

import json
import os
import secrets as pysecrets
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner, Result

from runner.cli.lab.session import LabSession
from runner.cli.main import app
from tests.adopt.foreign import Foreign
from tests.adopt.foreign_gen import terraform_output_json
from tests.adopt.terraform import Terraform, spec_text

COPIED = (".sops.yaml", "schemas", "flux", "clusters/home")
REPO = Path(__file__).parents[2]
KEYS = "tests/keys"  # the lab's age keys: the runner's (machine secrets) and the cluster's Flux key


def operator_repo(dest: Path, terraform: Terraform, spec: str | None = None) -> Path:
    """The operator's repository: the Flux tree, the spec of their cluster, and the secrets `runner init`
    imported from `terraform output -json` (written to a temporary file, removed right after)."""
    for rel in (".sops.yaml", "schemas", "flux", KEYS):
        src = REPO / rel
        if src.is_dir():
            shutil.copytree(src, dest / rel)
        else:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest / rel)
    cluster = dest / "clusters/home"
    cluster.mkdir(parents=True)
    (cluster / "cluster.yaml").write_text(spec or spec_text())
    fd, name = tempfile.mkstemp(prefix="tf-output-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(terraform_output_json(terraform.secrets), out)
        env = {"RUNNER_INIT_PROXMOX_TOKEN_SECRET": pysecrets.token_hex(16)}
        args = ["init", str(cluster), "--talos-secrets", name, "--proxmox-token-id", "runner@pve!gitops"]
        args += ["--age-key-file", str(dest / KEYS / "lab.agekey")]
        args += ["--flux-age-key-file", str(dest / KEYS / "flux-lab.agekey")]
        result = CliRunner().invoke(app, args, env=env)
    finally:
        os.unlink(name)
    assert result.exit_code == 0, result.output
    assert "Talos secrets bundle imported, encrypted" in result.output, result.output
    return dest


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
