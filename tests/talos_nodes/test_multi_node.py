"""Several nodes in one talosctl call: results labelled per node, and a node that does not answer loses only itself."""

from __future__ import annotations

import json

import pytest

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin
from tests.talos_nodes.conftest import Bundle, boot_to_maintenance, running, talosctl_as_runner, wait_until

NODES = {"10.0.0.11": "talos-cp-01", "10.0.0.21": "talos-worker-01", "10.0.0.22": "talos-worker-02"}
DOWN = "10.0.0.21"
NO_ROUTE = (
    'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: '
    'dial tcp 10.0.0.21:50000: connect: no route to host"'
)


@pytest.fixture
def three(twin: TalosTwin, bundle: Bundle) -> list[str]:
    for ip, name in NODES.items():
        running(twin, bundle, ip, "controlplane" if "cp" in name else "worker", name)
    return list(NODES)


def test_get_json_labels_each_node(three: list[str], driver: TalosctlDriver) -> None:
    result = talosctl_as_runner(driver, "get", "machinestatus", "-o", "json", nodes=three)
    assert result.returncode == 0, result.stderr
    docs = [json.loads(chunk) for chunk in result.stdout.replace("}\n{", "}\n\x00{").split("\x00")]
    assert [d["node"] for d in docs] == three
    assert {d["spec"]["stage"] for d in docs} == {"running"}


def test_get_with_one_node_down_prints_the_others_and_fails(
    three: list[str], twin: TalosTwin, driver: TalosctlDriver
) -> None:
    twin.power(DOWN, False)
    result = talosctl_as_runner(driver, "get", "machinestatus", nodes=three)
    assert result.returncode == 1
    rows = [line.split()[0] for line in result.stdout.splitlines()]
    assert rows == ["NODE", "10.0.0.11", "10.0.0.22"]
    assert result.stderr == f"1 error occurred:\n\t* {NO_ROUTE}\n\n\n"


def test_get_fails_whole_when_the_first_node_is_down(three: list[str], twin: TalosTwin, driver: TalosctlDriver) -> None:
    """ForEachResource resolves the resource type on the first node before listing any."""
    twin.power(DOWN, False)
    result = talosctl_as_runner(driver, "get", "machinestatus", nodes=[DOWN, "10.0.0.11"])
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == NO_ROUTE + "\n"


def test_version_warns_about_the_node_that_is_down(three: list[str], twin: TalosTwin, driver: TalosctlDriver) -> None:
    twin.power(DOWN, False)
    result = talosctl_as_runner(driver, "version", nodes=three)
    assert result.returncode == 0
    nodes = [line.split(":", 1)[1].strip() for line in result.stdout.splitlines() if line.strip().startswith("NODE:")]
    assert nodes == ["10.0.0.11", "10.0.0.22"]
    assert result.stderr == f"WARNING: 1 error occurred:\n\t* 10.0.0.21: {NO_ROUTE}\n\n"


def test_service_prints_the_nodes_that_answered_and_warns_about_the_others(
    three: list[str], twin: TalosTwin, driver: TalosctlDriver
) -> None:
    twin.power(DOWN, False)
    result = talosctl_as_runner(driver, "service", "etcd", nodes=three)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["NODE", "10.0.0.11", "ID", "etcd", "STATE", "Preparing", "HEALTH", "?"]
    assert result.stderr == f"WARNING: 1 error occurred:\n\t* 10.0.0.21: {NO_ROUTE}\n\n"
    twin.power("10.0.0.11", False)
    none = talosctl_as_runner(driver, "service", "etcd", nodes=["10.0.0.11", DOWN])
    assert none.returncode == 1 and none.stderr.startswith("error listing services: rpc error: code = Unavailable")


def test_an_endpoint_that_is_down_is_skipped(three: list[str], twin: TalosTwin, driver: TalosctlDriver) -> None:
    twin.power(DOWN, False)
    result = talosctl_as_runner(driver, "version", nodes=[DOWN, "10.0.0.11"])  # DOWN is the first endpoint too
    assert "NODE:        10.0.0.11" in result.stdout


def test_driver_reads_every_node_in_one_call_each(three: list[str], twin: TalosTwin, driver: TalosctlDriver) -> None:
    twin.power(DOWN, False)
    statuses = driver.statuses(three)
    assert {ip: s.stage for ip, s in statuses.items()} == {
        "10.0.0.11": "running",
        DOWN: "unreachable",
        "10.0.0.22": "running",
    }
    answering = ["10.0.0.11", "10.0.0.22"]
    assert driver.versions(three) == dict.fromkeys(answering, "v1.11.2")
    schematic = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
    twin.lab.nodes["10.0.0.22"].installer_image = f"factory.talos.dev/installer/{schematic}:v1.11.2"
    assert driver.schematics(answering) == {"10.0.0.11": None, "10.0.0.22": schematic}
    versions = driver.config_versions(answering)
    configs = driver.machine_configs(answering)
    assert set(configs) == set(answering)
    assert {ip: c.version for ip, c in configs.items()} == versions
    assert "hostname: talos-cp-01" in configs["10.0.0.11"].text.reveal()


def test_driver_reads_the_others_when_the_first_node_is_down(
    three: list[str], twin: TalosTwin, driver: TalosctlDriver
) -> None:
    """The first node leads every list (the bootstrap controller): when it is down, `get` prints nothing for
    anyone, and the driver asks the others again without it. A crashed first controller costs one run more."""
    first, *rest = three
    twin.power(first, False)
    assert {ip: s.stage for ip, s in driver.statuses(three).items()} == {
        first: "unreachable",
        "10.0.0.21": "running",
        "10.0.0.22": "running",
    }
    schematic = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
    twin.lab.nodes["10.0.0.22"].installer_image = f"factory.talos.dev/installer/{schematic}:v1.11.2"
    assert driver.schematics(three) == {"10.0.0.21": None, "10.0.0.22": schematic}
    versions = driver.config_versions(three)
    configs = driver.machine_configs(three)
    assert set(versions) == set(configs) == set(rest)
    assert {ip: c.version for ip, c in configs.items()} == versions


def test_config_version_moves_with_each_change_and_boot_time_with_each_boot(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle
) -> None:
    ip = "10.0.0.11"
    running(twin, bundle, ip, "controlplane", "talos-cp-01")
    first, booted = driver.config_versions([ip])[ip], driver.statuses([ip])[ip].booted
    assert driver.config_versions([ip])[ip] == first  # reading does not change it
    edited = bundle.config("controlplane", "talos-cp-01").replace("hostname: talos-cp-01", "hostname: edited")
    driver.apply_config(ip, Secret(edited), insecure=False, mode="no-reboot")
    assert driver.config_versions([ip])[ip] == first + 1
    assert driver.statuses([ip])[ip].booted == booted
    talosctl_as_runner(driver, "reboot", "--wait=false", nodes=[ip])
    wait_until(lambda: twin.phase(ip) == "running", "the node back")
    assert driver.statuses([ip])[ip].booted not in (None, booted)


def test_maintenance_node_among_running_ones_is_asked_insecurely(
    three: list[str], twin: TalosTwin, driver: TalosctlDriver
) -> None:
    boot_to_maintenance(twin, "10.0.0.23", "fresh")
    statuses = driver.statuses([*three, "10.0.0.23"])
    assert statuses["10.0.0.23"].stage == "maintenance"
    assert {statuses[ip].stage for ip in three} == {"running"}


def test_an_authorization_failure_is_permanent_not_unreachable(
    three: list[str], twin: TalosTwin, driver: TalosctlDriver, other_bundle: Bundle
) -> None:
    stranger = TalosctlDriver(
        other_bundle.os_ca.crt_pem, Secret(other_bundle.os_ca.key_pem.decode()), talosctl_path=driver.talosctl_path
    )
    with pytest.raises(Permanent, match="TLS handshake failed"):
        stranger.versions(three)
