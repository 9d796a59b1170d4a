"""The checked-in JSON Schema matches the models; `runner validate` reports problems cleanly and changes nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from runner.core.schema import SCHEMA_PATH, cluster_schema, cluster_schema_text

ROOT = Path(__file__).resolve().parents[2]


def runner_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "runner"
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_checked_in_schema_is_not_stale() -> None:
    assert (ROOT / SCHEMA_PATH).read_text() == cluster_schema_text(), "run `runner schema --write`"


def test_schema_rejects_unknown_keys_and_editors_find_it() -> None:
    schema = cluster_schema()
    assert schema["additionalProperties"] is False
    assert "nodes" in schema["required"] and "proxmox" in schema["required"]
    first = (ROOT / "clusters/home/cluster.yaml").read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema=../../{SCHEMA_PATH}"
    json.loads((ROOT / SCHEMA_PATH).read_text())


def test_validate_ok_on_the_reference_cluster() -> None:
    result = runner_cli("validate", "clusters/home")
    assert result.returncode == 0, result.stderr
    assert "3 controllers, 2 workers" in result.stdout


def _broken_copy(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    cluster = tmp_path / "clusters/home"
    shutil.copytree(ROOT / "clusters/home", cluster)
    spec = cluster / "cluster.yaml"
    broken = spec.read_text().replace(old, new)
    spec.write_text(broken)
    return cluster, broken


def _line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def test_validate_reports_a_typo_with_file_line_and_no_traceback(tmp_path: Path) -> None:
    cluster, broken = _broken_copy(tmp_path, "  bridge: vmbr0", "  brige: vmbr0")
    before = {p: p.read_bytes() for p in cluster.iterdir()}
    result = runner_cli("validate", "clusters/home", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    line = _line_of(broken, "  brige: vmbr0")
    want = f"clusters/home/cluster.yaml:{line}:3: proxmox.brige: unknown field 'brige' (did you mean 'bridge'?)"
    assert want in result.stderr
    assert {p: p.read_bytes() for p in cluster.iterdir()} == before  # nothing changed


def test_validate_reports_every_semantic_problem_at_once(tmp_path: Path) -> None:
    _, broken = _broken_copy(tmp_path, "ip: 10.0.0.22", "ip: 10.0.0.11")
    broken_vmid = broken.replace("vmid: 304", "vmid: 300")
    (tmp_path / "clusters/home/cluster.yaml").write_text(broken_vmid)
    result = runner_cli("validate", "clusters/home", cwd=tmp_path)
    assert result.returncode == 1
    ip_line = [i + 1 for i, ln in enumerate(broken_vmid.splitlines()) if ln.strip() == "ip: 10.0.0.11"][1]
    assert f"clusters/home/cluster.yaml:{ip_line}:5: nodes[4].ip: 10.0.0.11 is already used by talos-cp-01" in (
        result.stderr
    )
    assert "nodes[4].vmid: 300 is already used by talos-cp-01" in result.stderr
    assert "2 errors; nothing was changed" in result.stderr


def test_offline_plan_prints_every_step_with_its_reason() -> None:
    result = runner_cli("plan", "clusters/home", "--offline", "-o", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert len(plan["steps"]) == 31  # 26 to the hand-off, then each of 5 nodes moves its endpoint to the VIP
    assert all(step["reason"] for step in plan["steps"])
    markdown = runner_cli("plan", "clusters/home", "--offline", "-o", "markdown")
    assert markdown.stdout.startswith("### Plan for cluster `home`") and "| 31 | kubernetes |" in markdown.stdout
