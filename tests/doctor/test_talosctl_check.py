"""The talosctl check reads `talosctl version --client` as the real binary prints it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from runner.core.validate import validate_text
from runner.engine.commands.doctor.model import DoctorContext, Result
from runner.engine.commands.doctor.talosctl import talosctl_version
from runner.engine.reconcile.target_settings import TargetSettings

from .conftest import REPO_ROOT

CLIENT = (
    "Client:\n\tTag:         {tag}\n\tSHA:         511b4d2e\n\tBuilt:       \n"
    "\tGo version:  go1.24.6\n\tOS/Arch:     linux/amd64\n"
)


def _context(talosctl: str) -> DoctorContext:
    cluster, _ = validate_text((REPO_ROOT / "clusters/home/cluster.yaml").read_text(), "cluster.yaml")
    return DoctorContext(REPO_ROOT, "home", cluster, TargetSettings(talosctl_path=talosctl), secrets=None)


def _fake_talosctl(tmp_path: Path, tag: str) -> str:
    script = tmp_path / "talosctl"
    script.write_text(f"#!/bin/sh\nprintf '{CLIENT.format(tag=tag)}'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


@pytest.mark.parametrize(
    ("tag", "result"),
    [("v1.11.2", Result.OK), ("v1.11.0", Result.OK), ("v1.10.7", Result.WARN), ("v1.9.5", Result.FAIL)],
)
def test_the_client_version_must_fit_the_clusters_talos_version(tmp_path, tag, result):
    [row] = talosctl_version(_context(_fake_talosctl(tmp_path, tag)))
    assert row.result is result, row


def test_a_missing_talosctl_fails(tmp_path):
    [row] = talosctl_version(_context(str(tmp_path / "nowhere" / "talosctl")))
    assert (row.result, row.detail) == (Result.FAIL, f"'{tmp_path / 'nowhere' / 'talosctl'}' not found")


def test_the_lab_talosctl_answers_like_the_real_one(tmp_path):
    from runner.lab.talos import install_talosctl_shim

    shim = install_talosctl_shim(tmp_path / "bin", "http://127.0.0.1:9")  # --client needs no twin
    [row] = talosctl_version(_context(str(shim)))
    assert (row.result, row.detail) == (Result.OK, "talosctl v1.11.2 fits Talos v1.11.2")
