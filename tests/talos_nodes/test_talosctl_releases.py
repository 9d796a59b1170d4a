"""The twin's talosctl imitates the release in use: v1.12 knows no `--drain`; v1.13 drains client-side by
default (forcing `--wait`), warns on the legacy flags, and falls back to the legacy upgrade for older nodes.
The runner's driver picks its talosctl per node minor and passes `--drain=false` to v1.13 (it drains itself)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from runner.core.secret import Secret
from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin, install_talosctl_shim
from tests.talos_nodes.conftest import Bundle, driver_for, talosctl_as_runner, wait_until

INSTALLER = "factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:"


def _shims(twin: TalosTwin, tmp_path: Path) -> dict[tuple[int, int], Path]:
    return {
        (1, minor): install_talosctl_shim(tmp_path / "bin", twin.url, f"v1.{minor}.{patch}", f"talosctl-1.{minor}")
        for minor, patch in ((11, 6), (12, 11), (13, 9))
    }


def _as(driver: TalosctlDriver, shim: Path) -> TalosctlDriver:
    driver.clients.default = str(shim)
    driver.talosctl_path = str(shim)
    return driver


def test_each_release_reports_its_own_client_version(twin: TalosTwin, tmp_path: Path) -> None:
    for (_, minor), shim in _shims(twin, tmp_path).items():
        out = subprocess.run([shim, "version", "--client", "--short"], capture_output=True, text=True, check=True)
        assert out.stdout.splitlines()[1].startswith(f"Talos v1.{minor}.")


def test_talosctl_v1_12_knows_no_drain_flag(twin: TalosTwin, bundle: Bundle, tmp_path: Path) -> None:
    twin.preinstall("10.0.0.21", bundle.config("worker", "w1"), "w1", version="v1.12.11")
    driver = _as(driver_for(bundle, tmp_path), _shims(twin, tmp_path)[(1, 12)])
    done = talosctl_as_runner(driver, "upgrade", "--image", INSTALLER + "v1.13.9", "--drain=false", nodes=["10.0.0.21"])
    assert (done.returncode, done.stderr.splitlines()[0]) == (1, "unknown flag: --drain")


def test_talosctl_v1_13_drains_by_default_which_the_twin_does_not_simulate(
    twin: TalosTwin, bundle: Bundle, tmp_path: Path
) -> None:
    twin.preinstall("10.0.0.21", bundle.config("worker", "w1"), "w1", version="v1.13.8")
    driver = _as(driver_for(bundle, tmp_path), _shims(twin, tmp_path)[(1, 13)])
    done = talosctl_as_runner(
        driver, "upgrade", "--image", INSTALLER + "v1.13.9", "--wait=false", "--preserve", nodes=["10.0.0.21"]
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Flag --preserve has been deprecated, legacy flag for MachineService.Upgrade fallback, to be removed in "
        "Talos 1.18",
        "talosctl upgrade --drain is not simulated by the node twins: pass --drain=false",
    ]
    assert twin.lab.nodes["10.0.0.21"].version == "v1.13.8"


def test_talosctl_v1_13_against_a_v1_12_node_falls_back_to_the_legacy_upgrade_and_waits(
    twin: TalosTwin, bundle: Bundle, tmp_path: Path
) -> None:
    twin.preinstall("10.0.0.21", bundle.config("worker", "w1"), "w1", version="v1.12.11")
    driver = _as(driver_for(bundle, tmp_path), _shims(twin, tmp_path)[(1, 13)])
    done = talosctl_as_runner(driver, "upgrade", "--image", INSTALLER + "v1.13.9", "--wait=false", nodes=["10.0.0.21"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # --drain forced --wait: no ack table, it returned once the node was back
    assert twin.lab.nodes["10.0.0.21"].versions_run == ["v1.12.11", "v1.13.9"]


def test_the_driver_picks_the_talosctl_for_the_nodes_and_passes_drain_false_to_v1_13(
    twin: TalosTwin, bundle: Bundle, tmp_path: Path
) -> None:
    shims = _shims(twin, tmp_path)
    twin.preinstall("10.0.0.21", bundle.config("worker", "w1"), "w1", version="v1.13.8")
    twin.preinstall("10.0.0.22", bundle.config("worker", "w2"), "w2", version="v1.12.11")
    driver = TalosctlDriver(
        bundle.os_ca.crt_pem,
        Secret(bundle.os_ca.key_pem.decode()),
        talosctl_path=str(shims[(1, 11)]),
        talosctl_paths={m: str(p) for m, p in shims.items()},
    )
    assert driver.clients.path() == str(shims[(1, 11)])  # no node known yet: the default
    driver.versions(["10.0.0.21", "10.0.0.22"])
    assert driver.clients.path() == str(shims[(1, 13)])  # drives v1.12 and v1.13
    driver.upgrade("10.0.0.21", INSTALLER + "v1.13.9")  # --drain=false: the twin would refuse the drain
    wait_until(lambda: driver.version("10.0.0.21") == "v1.13.9", "w1 on v1.13.9")
