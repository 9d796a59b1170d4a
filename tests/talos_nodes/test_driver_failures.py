"""How the driver reports failures: Transient vs Permanent, clear messages, no secrets, no leftovers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from runner.core.errors import Permanent, RunnerError, Transient
from runner.core.secret import Secret
from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin
from tests.talos_nodes.conftest import Bundle, boot_to_maintenance, driver_for

CP = "10.0.0.11"


def test_missing_talosctl_is_a_clear_permanent_error(bundle: Bundle, tmp_path: Path) -> None:
    driver = driver_for(bundle, tmp_path / "nowhere" / "talosctl")
    with pytest.raises(Permanent, match=r"talosctl not found at '.*nowhere/talosctl'"):
        driver.version(CP)


def test_unreachable_node_is_transient(twin: TalosTwin, driver: TalosctlDriver) -> None:
    twin.register(CP)
    with pytest.raises(Transient, match="no route to host"):
        driver.bootstrap(CP)


def test_slow_node_times_out_as_transient(twin: TalosTwin, bundle: Bundle, talosctl: Path) -> None:
    boot_to_maintenance(twin, CP)
    twin.set_faults(CP, latency=2.5)
    impatient = driver_for(bundle, talosctl, timeout=1.0)
    with pytest.raises(Transient, match="timed out"):
        impatient.apply_config(CP, bundle.config("controlplane", "cp"), insecure=True)


def test_no_secret_reaches_errors_or_logs(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, caplog: pytest.LogCaptureFixture
) -> None:
    """Talos echoes unknown keys with their values; a misspelt `token` must not leak the token."""
    caplog.set_level(logging.DEBUG)
    boot_to_maintenance(twin, CP)
    typo = bundle.config("controlplane", "cp").replace("    token: ", "    tokne: ", 1)
    errors: list[RunnerError] = []
    for attempt in (
        lambda: driver.apply_config(CP, Secret(typo), insecure=True),
        lambda: driver.apply_config(CP, "machine: [" + bundle.values["cluster_secret"], insecure=True),
        lambda: driver.bootstrap(CP),
    ):
        with pytest.raises(RunnerError) as caught:
            attempt()
        errors.append(caught.value)

    assert "unknown keys found during decoding" in str(errors[0]) and "tokne: ***" in str(errors[0])
    produced = "\n".join([*(str(e) for e in errors), *(repr(e) for e in errors), caplog.text])
    for value in bundle.secret_values():
        assert value not in produced


def test_work_dir_is_private_and_removed(twin: TalosTwin, bundle: Bundle, tmp_path: Path) -> None:
    """A stand-in talosctl records where and how the driver left its files."""
    probe = tmp_path / "talosctl"
    report = tmp_path / "report"
    probe.write_text(
        "#!/bin/sh\n"
        "config=$2\n"
        f'stat -c "%a %n" "$(dirname "$config")" "$config" > {report}\n'
        'echo "Server:"; echo "	Tag:         v1.11.2"\n'
    )
    probe.chmod(0o755)
    assert driver_for(bundle, probe).version(CP) == "v1.11.2"
    dir_line, file_line = report.read_text().splitlines()
    assert dir_line.startswith("700 ") and file_line.startswith("600 ")
    assert not Path(file_line.split(" ", 1)[1]).exists()
