"""The twin talosctl speaks talosctl's command line: flags, exit codes and error texts."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin
from runner.lab.talos.talosctl import main as talosctl_main
from tests.talos_nodes.conftest import Bundle, boot_to_maintenance, running, wait_until

CP = "10.0.0.11"


def run(talosctl: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TALOSCONFIG"}
    return subprocess.run([str(talosctl), *args], capture_output=True, text=True, timeout=30, cwd=cwd, env=env)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["version", "--bogus"], "unknown flag: --bogus"),
        (["frobnicate"], 'unknown command "frobnicate" for "talosctl"'),
    ],
)
def test_executable_rejects_usage_errors(talosctl: Path, args: list[str], message: str) -> None:
    result = run(talosctl, *args)
    assert result.returncode == 1
    assert result.stderr.startswith(message + "\n\nUsage:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bootstrap", "-x"], "unknown shorthand flag: 'x' in -x"),
        (["apply-config", "--file"], "flag needs an argument: --file"),
        (["apply-config", "-m", "sometimes"], 'invalid argument "sometimes" for "-m, --mode" flag: possible options'),
        (["reboot", "--wait=maybe"], 'invalid argument "maybe" for "--wait" flag: strconv.ParseBool'),
        (["etcd", "remove-member"], "accepts 1 arg(s), received 0"),
        (["upgrade", "--preserve", "--stage", "--reboot-mode", "default", "extra"], 'unknown command "extra"'),
    ],
)
def test_usage_errors_are_rejected_like_cobra(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert talosctl_main(args) == 1
    assert capsys.readouterr().err.startswith(message)


def test_bootstrap_twice_prints_grpc_already_exists(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, talosctl: Path, tmp_path: Path
) -> None:
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    (tmp_path / "talosconfig").write_text(driver.talosconfig_yaml([CP], [CP]).reveal())
    args = ["--talosconfig", str(tmp_path / "talosconfig"), "bootstrap"]

    assert run(talosctl, *args).returncode == 0
    again = run(talosctl, *args)

    assert again.returncode == 1
    assert again.stderr == (
        "error executing bootstrap: 1 error occurred:\n"
        f"\t* {CP}: rpc error: code = AlreadyExists desc = etcd data directory is not empty\n\n\n"
    )
    version = run(talosctl, "--talosconfig", str(tmp_path / "talosconfig"), "version", "--short")
    assert version.stdout.startswith(
        "Client:\nTalos v1.11.2\nServer:\n\tNODE:        10.0.0.11\n\tTag:         v1.11.2\n"
    )


def test_maintenance_apply_rejects_bad_configs(twin: TalosTwin, talosctl: Path, tmp_path: Path, bundle: Bundle) -> None:
    boot_to_maintenance(twin, CP)
    cases = {
        "garbage.yaml": (
            "machine: [unclosed\n",
            "rpc error: code = Unknown desc = failed to parse config: decode error",
        ),
        "incomplete.yaml": (
            "version: v1alpha1\nmachine:\n    type: controlplane\n",
            "rpc error: code = InvalidArgument desc = configuration validation failed: 4 errors occurred:\n"
            "\t* cluster instructions are required\n",
        ),
        "typo.yaml": (
            bundle.config("controlplane", "cp").replace("    certSANs: []", "    certSAN: []"),
            "failed to parse config: unknown keys found during decoding:\nmachine:\n    certSAN: []\n",
        ),
    }
    for name, (content, expected) in cases.items():
        (tmp_path / name).write_text(content)
        result = run(talosctl, "apply-config", "--insecure", "-n", CP, "--file", str(tmp_path / name))
        assert result.returncode == 1, name
        assert result.stderr.startswith("error applying new configuration: "), name
        assert expected in result.stderr, name
    assert twin.phase(CP) == "maintenance"


def test_get_machineconfig_yaml_is_the_applied_config(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, talosctl: Path, tmp_path: Path
) -> None:
    running(twin, bundle, CP, "worker", "talos-worker-01")
    (tmp_path / "talosconfig").write_text(driver.talosconfig_yaml([CP], [CP]).reveal())
    result = run(talosctl, "--talosconfig", str(tmp_path / "talosconfig"), "get", "mc", "-o", "yaml")
    assert result.returncode == 0
    assert result.stdout.startswith("node: 10.0.0.11\nmetadata:\n    namespace: config\n")
    assert "spec: |\n    version: v1alpha1\n" in result.stdout


def test_talosconfig_key_must_match_certificate(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, talosctl: Path, tmp_path: Path
) -> None:
    running(twin, bundle, CP, "worker", "talos-worker-01")
    config = yaml.safe_load(driver.talosconfig_yaml([CP], [CP]).reveal())
    config["contexts"][config["context"]]["key"] = base64.b64encode(bundle.os_ca.key_pem).decode()  # another pair
    (tmp_path / "talosconfig").write_text(yaml.safe_dump(config))
    result = run(talosctl, "--talosconfig", str(tmp_path / "talosconfig"), "version")
    assert result.returncode == 1
    assert "tls: private key does not match public key" in result.stderr


def test_upgrade_accepts_the_hidden_preserve_flag(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    running(twin, bundle, CP, "worker", "talos-worker-01")
    driver.upgrade(CP, "ghcr.io/siderolabs/installer:v1.11.3", preserve=True)
    wait_until(lambda: twin.phase(CP) == "running" and twin.lab.nodes[CP].version == "v1.11.3", "the upgrade")
