"""A node pulls its installer from the image's registry: an installer the factory does not serve is refused."""

from __future__ import annotations

import pytest

from runner.core.errors import Permanent, Transient
from runner.core.secret import Secret
from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin
from tests.talos_nodes.conftest import INSTALLER, Bundle, boot_to_maintenance, running, wait_until

UNKNOWN = "factory.talos.dev/metal-installer/" + "b" * 64 + ":v1.11.3"


def test_upgrade_to_an_installer_the_registry_does_not_serve_is_refused(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle
) -> None:
    twin.lab.installer_available = lambda image: image != UNKNOWN
    running(twin, bundle, "10.0.0.21", "worker", "w1")
    with pytest.raises((Permanent, Transient), match="error validating installer image"):
        driver.upgrade("10.0.0.21", UNKNOWN)
    assert twin.phase("10.0.0.21") == "running"
    assert twin.lab.nodes["10.0.0.21"].version == "v1.11.2"


def test_install_from_maintenance_never_starts_without_its_installer(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle
) -> None:
    twin.lab.installer_available = lambda image: image != INSTALLER
    boot_to_maintenance(twin, "10.0.0.22", "w2")
    driver.apply_config("10.0.0.22", Secret(bundle.config("worker", "w2")), insecure=True)
    with pytest.raises(AssertionError):
        wait_until(lambda: twin.phase("10.0.0.22") == "running", "w2 running", timeout=0.5)
    assert twin.phase("10.0.0.22") == "maintenance"
