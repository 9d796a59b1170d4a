"""etcd snapshots and Talos' documented recovery, through the driver and the talosctl twin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.core.errors import Permanent, Transient
from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin
from runner.lab.talos.etcd_snapshot import EtcdStore, lose_etcd
from tests.talos_nodes.conftest import Bundle, bootstrap_and_wait, running, wait_until

CONTROLLERS = {"10.0.0.11": "talos-cp-01", "10.0.0.12": "talos-cp-02", "10.0.0.13": "talos-cp-03"}


def keyspace(twin: TalosTwin) -> dict[str, Any]:
    """A plain dict standing in for the Kubernetes store, wired like the lab world wires the real one."""
    data: dict[str, Any] = {"objects": {"configmaps/default/settings": {"color": "blue"}}}
    twin.lab.etcd_store = EtcdStore(
        dump=lambda: {"objects": dict(data["objects"])},
        load=lambda dump: data.update(objects=dict(dump["objects"])),
        clear=lambda: data.update(objects={}),
    )
    return data


def cluster(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> str:
    for ip, name in CONTROLLERS.items():
        running(twin, bundle, ip, "controlplane", name)
    bootstrap_and_wait(driver, "10.0.0.11")
    wait_until(lambda: len(driver.etcd_members("10.0.0.11")) == 3, "three etcd members")
    node = twin.lab.nodes["10.0.0.11"]
    assert node.config is not None
    return node.config.cluster_id


def test_snapshot_is_an_etcd_shaped_file(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, tmp_path: Path
) -> None:
    keyspace(twin)
    cluster(twin, driver, bundle)
    size = driver.etcd_snapshot("10.0.0.12", tmp_path / "db.snapshot")
    data = (tmp_path / "db.snapshot").read_bytes()
    assert size == len(data) and size % 512 == 32  # the check talosctl applies to every download
    assert b"configmaps/default/settings" in data
    assert not (tmp_path / "db.snapshot.part").exists()


def test_snapshot_fails_when_the_local_etcd_does_not_answer(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, tmp_path: Path
) -> None:
    cluster(twin, driver, bundle)
    twin.set_faults("10.0.0.11", etcd_snapshot_fails=True)
    with pytest.raises((Permanent, Transient), match=r"(?s)error reading file: .*context deadline exceeded"):
        driver.etcd_snapshot("10.0.0.11", tmp_path / "db.snapshot")
    assert not (tmp_path / "db.snapshot").exists()


def test_recover_from_snapshot_after_losing_every_member(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, tmp_path: Path
) -> None:
    data = keyspace(twin)
    cluster_id = cluster(twin, driver, bundle)
    driver.etcd_snapshot("10.0.0.11", tmp_path / "db.snapshot")
    lose_etcd(twin.lab, cluster_id)
    assert data["objects"] == {}
    # The data directory is not empty (just unusable): bootstrap refuses until the node is reset.
    with pytest.raises(Permanent, match="AlreadyExists desc = etcd data directory is not empty"):
        driver.bootstrap_recover("10.0.0.11", tmp_path / "db.snapshot")
    for ip in CONTROLLERS:
        driver.reset_ephemeral(ip)
    for ip in CONTROLLERS:
        wait_until(lambda ip=ip: twin.phase(ip) == "running", f"{ip} back after the reset")  # type: ignore[misc]
    assert twin.lab.nodes["10.0.0.12"].config is not None  # STATE (the machine config) survives
    driver.bootstrap_recover("10.0.0.11", tmp_path / "db.snapshot")
    assert data["objects"] == {"configmaps/default/settings": {"color": "blue"}}
    wait_until(lambda: len(driver.etcd_members("10.0.0.11")) == 3, "the other controllers to join again")


def test_recover_refuses_a_damaged_snapshot(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, tmp_path: Path
) -> None:
    keyspace(twin)
    cluster_id = cluster(twin, driver, bundle)
    path = tmp_path / "db.snapshot"
    driver.etcd_snapshot("10.0.0.11", path)
    raw = bytearray(path.read_bytes())
    raw[10] ^= 0xFF
    path.write_bytes(bytes(raw))
    lose_etcd(twin.lab, cluster_id)
    for ip in CONTROLLERS:
        driver.reset_ephemeral(ip)
    wait_until(lambda: all(twin.phase(ip) == "running" for ip in CONTROLLERS), "all back")
    with pytest.raises(Permanent, match="snapshot file integrity check failed"):
        driver.bootstrap_recover("10.0.0.11", path)
