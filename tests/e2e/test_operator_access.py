"""`runner status`, `runner kubeconfig` and `runner talosconfig` against the lab, as an operator runs them."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from ruamel.yaml import YAML

from runner.cli.lab.session import LabSession

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("operator-access")]


def runner_cli(session: LabSession, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "runner"
    env = {**os.environ, "RUNNER_CONFIG": str(session.config_file), "COLUMNS": "200"}
    return subprocess.run(
        [str(exe), *args], cwd=session.clone, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_status_and_client_configs_point_at_the_vip_after_the_hand_off(home: tuple[LabSession, dict]) -> None:
    session, _ = home
    status = runner_cli(session, "status", "clusters/home")
    assert status.returncode == 0, status.stderr
    assert "endpoint https://10.0.0.20:6443" in status.stdout.replace("\n", " ")
    for name in ("talos-cp-01", "talos-worker-02"):
        assert name in status.stdout
    assert "Kustomizations Ready" in status.stdout and "0 pending steps" in status.stdout

    kubeconfig = runner_cli(session, "kubeconfig", "clusters/home")
    assert kubeconfig.returncode == 0, kubeconfig.stderr
    conf = YAML(typ="safe").load(kubeconfig.stdout)
    assert conf["clusters"][0]["cluster"]["server"] == "https://10.0.0.20:6443"

    out = session.workdir / "talosconfig"
    talosconfig = runner_cli(session, "talosconfig", "clusters/home", "-o", str(out))
    assert talosconfig.returncode == 0, talosconfig.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    tc = YAML(typ="safe").load(out.read_text())
    context = tc["contexts"][tc["context"]]
    assert context["endpoints"] == ["10.0.0.20"]
    cert = x509.load_pem_x509_certificate(base64.b64decode(context["crt"]))
    assert "os:admin" in cert.subject.rfc4514_string()
