"""The talosctl check reads `talosctl version --client` as the real binary prints it."""

from __future__ import annotations

import re
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
    # the reference cluster runs Talos v1.13.9: its minor passes, one minor apart warns, two fail
    [("v1.13.9", Result.OK), ("v1.13.0", Result.OK), ("v1.12.11", Result.WARN), ("v1.11.6", Result.FAIL)],
)
def test_the_client_version_must_fit_the_clusters_talos_version(tmp_path, tag, result):
    [row] = talosctl_version(_context(_fake_talosctl(tmp_path, tag)))
    assert row.result is result, row


def test_a_missing_talosctl_fails(tmp_path):
    [row] = talosctl_version(_context(str(tmp_path / "nowhere" / "talosctl")))
    assert (row.result, row.detail) == (Result.FAIL, f"'{tmp_path / 'nowhere' / 'talosctl'}' not found")


def test_the_lab_talosctl_answers_like_the_real_one(tmp_path):
    from runner.lab.talos import install_talosctl_shim

    # the lab installs the talosctl of the cluster's own release; --client needs no twin
    shim = install_talosctl_shim(tmp_path / "bin", "http://127.0.0.1:9", "v1.13.9")
    [row] = talosctl_version(_context(str(shim)))
    assert (row.result, row.detail) == (Result.OK, "talosctl v1.13.9 fits Talos v1.13.9")


def test_each_talosctl_per_minor_is_checked_and_says_which_nodes_it_drives(tmp_path):
    paths = {}
    for minor, tag in (("1.12", "v1.12.11"), ("1.13", "v1.12.4")):  # the second is the wrong binary
        (tmp_path / minor).mkdir()
        paths[minor] = _fake_talosctl(tmp_path / minor, tag)
    cluster, _ = validate_text((REPO_ROOT / "clusters/home/cluster.yaml").read_text(), "cluster.yaml")
    settings = TargetSettings(talosctl_path=_fake_talosctl(tmp_path, "v1.13.9"), talosctl_paths=paths)
    rows = talosctl_version(DoctorContext(REPO_ROOT, "home", cluster, settings, secrets=None))
    assert [(r.check, r.result, r.detail) for r in rows] == [
        ("talosctl", Result.OK, "talosctl v1.13.9 fits Talos v1.13.9"),
        ("talosctl 1.12", Result.OK, "talosctl v1.12.11 drives Talos v1.11 and v1.12"),
        ("talosctl 1.13", Result.FAIL, f"{paths['1.13']} is talosctl v1.12.4, not a v1.13 release"),
    ]
    assert rows[2].fix == "install talosctl v1.13.x there (curl -sL https://talos.dev/install | sh)"


def test_a_talosctl_paths_key_that_is_not_a_minor_is_refused():
    with pytest.raises(ValueError, match=re.escape("'1.12.3' is not a Talos minor like 1.12")):
        TargetSettings(talosctl_paths={"1.12.3": "/opt/talosctl"})
