"""The systemd unit for one host (deploy/systemd/runner.service): systemd itself reads it, and the runner
accepts the settings it starts with.

`systemd-analyze verify` refuses a unit whose ExecStart is missing, so it reads a copy whose ExecStart points
at a stand-in executable; every other line is the file's own. Without systemd-analyze the unit is parsed here.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from runner.engine.service.settings import Settings

from ..doctor.conftest import REPO_ROOT

UNIT = REPO_ROOT / "deploy" / "systemd" / "runner.service"
ANALYZE = shutil.which("systemd-analyze")


def _unit() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, empty_lines_in_values=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def _entries(section: str) -> list[tuple[str, str]]:
    """Every `Key=value` of a section, repeated keys included (configparser keeps only the last)."""
    text = UNIT.read_text().split(f"[{section}]", 1)[1].split("\n[", 1)[0]
    return [
        (key.strip(), value.strip())
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
        for key, _, value in [line.partition("=")]
    ]


def _copy_with_stand_in(tmp_path: Path) -> Path:
    stand_in = tmp_path / "runner"
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    text = UNIT.read_text()
    assert text.count("ExecStart=/opt/runner/bin/runner ") == 1
    copy = tmp_path / "runner.service"
    copy.write_text(text.replace("ExecStart=/opt/runner/bin/runner ", f"ExecStart={stand_in} "))
    return copy


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_the_unit_without_a_warning(tmp_path):
    copy = _copy_with_stand_in(tmp_path)
    result = subprocess.run([str(ANALYZE), "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_would_name_a_mistyped_key(tmp_path):
    """So the test above can fail: systemd warns about a key it does not know."""
    copy = _copy_with_stand_in(tmp_path)
    copy.write_text(copy.read_text().replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"))
    result = subprocess.run([str(ANALYZE), "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert "Unknown key 'NoNewPrivilege' in section [Service]" in result.stderr


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
def test_the_units_exposure_is_low(tmp_path):
    """`systemd-analyze security` scores what the unit may do (0 = nothing, 10 = everything)."""
    copy = _copy_with_stand_in(tmp_path)
    result = subprocess.run(
        [str(ANALYZE), "security", "--offline=yes", "--no-pager", str(copy)], capture_output=True, text=True, timeout=60
    )
    match = re.search(r"Overall exposure level for runner.service: ([\d.]+)", result.stdout + result.stderr)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0


def test_the_unit_runs_runner_serve_as_a_dynamic_user_with_hardening():
    service = _unit()["Service"]
    assert service["ExecStart"] == "/opt/runner/bin/runner serve"
    assert service["DynamicUser"] == "yes"
    assert service["StateDirectory"] == "runner"
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "CapabilityBoundingSet": "",
        "RestrictSUIDSGID": "yes",
    }.items():
        assert service.get(key) == value, key


def test_the_runner_reads_every_setting_the_unit_gives_and_state_stays_in_its_directories():
    env = dict(v.split("=", 1) for k, v in _entries("Service") if k == "Environment")
    fields = {f"RUNNER_{name.upper()}" for name in Settings.model_fields} | {"RUNNER_CONFIG"}
    assert set(env) <= fields, set(env) - fields
    # %S = /var/lib (StateDirectory), %C = /var/cache (CacheDirectory), %d = the credentials directory
    assert env["RUNNER_DB_PATH"].startswith("%S/runner/")
    assert env["RUNNER_BACKUP_DIR"].startswith("%S/runner/")
    assert env["RUNNER_CACHE_DIR"].startswith("%C/runner/")
    credentials = dict(v.split(":", 1) for k, v in _entries("Service") if k == "LoadCredential")
    assert env["RUNNER_AGE_KEY_FILE"] == "%d/age-key" and "age-key" in credentials
