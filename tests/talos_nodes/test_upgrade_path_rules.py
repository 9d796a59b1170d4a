"""A node's installer accepts the host versions upstream's pre-flight accepts (UpgradeableFrom): v1.13 from
v1.11 on, v1.11 from hosts below v1.13 only; a refused upgrade is acknowledged and the node keeps its version."""

from __future__ import annotations

import pytest

from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin
from tests.talos_nodes.conftest import Bundle, wait_until

INSTALLER = "factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:"


@pytest.mark.parametrize(
    ("host", "target"),
    [("v1.11.6", "v1.12.11"), ("v1.12.11", "v1.13.9"), ("v1.11.2", "v1.13.9"), ("v1.13.9", "v1.12.11")],
)
def test_an_upgrade_the_installer_accepts_is_recorded(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, host: str, target: str
) -> None:
    twin.preinstall("10.0.0.21", bundle.config("worker", "w1"), "w1", version=host)
    driver.upgrade("10.0.0.21", INSTALLER + target)
    wait_until(lambda: driver.version("10.0.0.21") == target, f"w1 running {target}")
    node = twin.lab.nodes["10.0.0.21"]
    assert (node.versions_run, node.upgrade_failures) == ([host, target], [])


def test_a_downgrade_from_a_host_too_new_is_acknowledged_and_not_done(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle
) -> None:
    twin.preinstall("10.0.0.21", bundle.config("worker", "w1"), "w1", version="v1.13.9")
    driver.upgrade("10.0.0.21", INSTALLER + "v1.11.6")  # acked: the installer's check runs afterwards
    node = twin.lab.nodes["10.0.0.21"]
    assert node.upgrade_failures == [
        "pre-flight checks failed: host version 1.13.9 is too new to downgrade to Talos 1.11.6"
    ]
    assert (twin.phase("10.0.0.21"), driver.version("10.0.0.21"), node.versions_run) == (
        "running",
        "v1.13.9",
        ["v1.13.9"],
    )


@pytest.mark.parametrize(
    ("host", "target", "error"),
    [
        ("v1.10.9", "v1.13.9", "pre-flight checks failed: host version 1.10.9 is too old to upgrade to Talos 1.13.9"),
        ("v1.9.6", "v1.12.11", "pre-flight checks failed: host version 1.9.6 is too old to upgrade to Talos 1.12.11"),
        ("v1.11.6", "v1.13.9", None),
        ("v1.12.0", "v1.14.0", "pre-flight checks failed: upgrades to version 1.14.0 are not supported"),
    ],
)
def test_the_preflight_table(host: str, target: str, error: str | None) -> None:
    from runner.lab.talos.upgrade_rules import preflight_error

    assert preflight_error(host, target) == error
