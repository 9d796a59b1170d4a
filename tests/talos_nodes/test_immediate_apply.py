"""A node applies without a reboot exactly the changes CanApplyImmediate lets through: `.machine.install`
(a new installer tag after an upgrade) yes; `machine.type` and the `features` a new minor drops, no."""

from __future__ import annotations

import copy
from typing import Any

from runner.lab.talos.apply_verdict import immediate_problem

BASE: list[dict[str, Any]] = [
    {
        "version": "v1alpha1",
        "machine": {
            "type": "worker",
            "install": {"image": "factory.talos.dev/installer/abc:v1.11.2"},
            "kubelet": {"image": "ghcr.io/siderolabs/kubelet:v1.32.1"},
            "features": {"rbac": True, "kubePrism": {"enabled": True, "port": 7445}},
        },
        "cluster": {"clusterName": "home"},
    }
]


def _edited(path: tuple[str, ...], value: object) -> list[dict[str, Any]]:
    docs = copy.deepcopy(BASE)
    node: Any = docs[0]
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return docs


def can_apply_immediately(current: list[dict[str, Any]], new: list[dict[str, Any]]) -> bool:
    return immediate_problem(current, new) is None


def test_install_kubelet_kubeprism_and_cluster_changes_apply_immediately() -> None:
    for path, value in (
        (("machine", "install", "image"), "factory.talos.dev/installer/abc:v1.13.9"),
        (("machine", "kubelet", "image"), "ghcr.io/siderolabs/kubelet:v1.33.6"),
        (("machine", "features", "kubePrism"), None),
        (("cluster", "clusterName"), "other"),
    ):
        assert can_apply_immediately(BASE, _edited(path, value)), path
    network_doc = [*BASE, {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "hostname": "w"}]
    assert can_apply_immediately(BASE, network_doc)


def test_machine_type_and_dropped_features_need_a_reboot() -> None:
    assert not can_apply_immediately(BASE, _edited(("machine", "type"), "controlplane"))
    assert not can_apply_immediately(BASE, _edited(("machine", "features", "rbac"), None))  # v1.12+ drops it


def test_through_talosctl_a_new_installer_tag_applies_without_a_reboot(twin, driver, bundle) -> None:  # type: ignore[no-untyped-def]
    from runner.core.secret import Secret
    from tests.talos_nodes.conftest import INSTALLER, running

    running(twin, bundle, "10.0.0.21", "worker", "w1")
    newer = bundle.config("worker", "w1", installer=INSTALLER.replace(":v1.11.2", ":v1.11.3"))
    driver.apply_config("10.0.0.21", Secret(newer), insecure=False, mode="no-reboot")
    node = twin.lab.nodes["10.0.0.21"]
    assert (node.phase, node.config.install_image) == ("running", INSTALLER.replace(":v1.11.2", ":v1.11.3"))
