"""The inventory bookkeeping of upgrade-k8s from Talos 1.13 (siderolabs/go-kubernetes kubernetes/ssa@v0.2.38),
checked against the vectors of upstream's own tests (fluxcd/cli-utils pkg/object/objmetadata_test.go)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.core.talos import manifest_inventory as inv

# (inventory string, (namespace, name, group, kind)): TestParseObjMetadata
VECTORS = [
    ("_test-name_apps_ReplicaSet", ("", "test-name", "apps", "ReplicaSet")),
    ("test-namespace_test-name_apps_Deployment", ("test-namespace", "test-name", "apps", "Deployment")),
    (
        "test-namespace_kubeadm__nodes-kubeadm-config_rbac.authorization.k8s.io_Role",
        ("test-namespace", "kubeadm:nodes-kubeadm-config", "rbac.authorization.k8s.io", "Role"),
    ),
    (
        "test-namespace_system____leader-locking-kube-scheduler_rbac.authorization.k8s.io_Role",
        ("test-namespace", "system::leader-locking-kube-scheduler", "rbac.authorization.k8s.io", "Role"),
    ),
    (
        "test-namespace_leader-locking-kube-scheduler___rbac.authorization.k8s.io_RoleBinding",
        ("test-namespace", "leader-locking-kube-scheduler:", "rbac.authorization.k8s.io", "RoleBinding"),
    ),
]


@pytest.mark.parametrize(("key", "meta"), VECTORS)
def test_inventory_keys_read_and_write_as_cli_utils_does(key: str, meta: tuple[str, str, str, str]) -> None:
    namespace, name, group, kind = meta
    obj = {"apiVersion": f"{group}/v1" if group else "v1", "kind": kind, "metadata": {"name": name}}
    if namespace:
        obj["metadata"]["namespace"] = namespace
    assert inv.parse_key(key) == meta
    assert inv.key_of(obj, namespaced=True) == key


names = st.from_regex(r"[a-z:][a-z0-9.:-]{0,20}", fullmatch=True)


@given(namespace=st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True) | st.just(""), name=names)
def test_a_key_reads_back_as_the_object_it_was_written_for(namespace: str, name: str) -> None:
    obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name}}
    obj["metadata"]["namespace"] = namespace
    assert inv.parse_key(inv.key_of(obj, namespaced=True)) == (namespace, name, "rbac.authorization.k8s.io", "Role")


def test_a_cluster_scoped_object_is_keyed_without_its_namespace() -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "flannel"}}
    stray = {**role, "metadata": {"name": "flannel", "namespace": "kube-system"}}
    assert inv.key_of(stray, namespaced=False) == "_flannel_rbac.authorization.k8s.io_ClusterRole"


def test_what_the_inventory_lists_and_the_manifests_no_longer_hold_is_pruned() -> None:
    inventory = [
        "kube-system_coredns_apps_Deployment",
        "kube-system_flannel__ServiceAccount",
        "_flannel_rbac.authorization.k8s.io_ClusterRole",
        "_system__coredns_rbac.authorization.k8s.io_ClusterRole",
    ]
    applied = ["kube-system_coredns_apps_Deployment", "_system__coredns_rbac.authorization.k8s.io_ClusterRole"]
    assert inv.to_prune(inventory, applied) == [
        "_flannel_rbac.authorization.k8s.io_ClusterRole",
        "kube-system_flannel__ServiceAccount",
    ]
    # calculatePruneObjects: a cluster-scoped entry matches an applied object of any namespace
    assert (
        inv.to_prune(
            ["_flannel_rbac.authorization.k8s.io_ClusterRole"], ["x_flannel_rbac.authorization.k8s.io_ClusterRole"]
        )
        == []
    )


def test_the_oldest_node_decides_whether_the_sync_uses_the_inventory() -> None:
    assert inv.uses_inventory(["v1.13.9", "v1.13.0"])
    assert not inv.uses_inventory(["v1.13.9", "v1.12.11"])
    assert inv.uses_inventory(["v1.14.0", "v2.0.0"])
    assert not inv.uses_inventory([])


def test_objects_are_annotated_and_another_inventorys_are_refused() -> None:
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "coredns", "namespace": "kube-system"}}
    assert inv.annotated([sa])[0]["metadata"]["annotations"] == {inv.OWNING_INVENTORY: inv.INVENTORY_NAME}
    assert "annotations" not in sa["metadata"]  # the rendered object is not changed
    foreign = {**sa, "metadata": {**sa["metadata"], "annotations": {inv.OWNING_INVENTORY: "other"}}}
    with pytest.raises(ValueError, match="already has an inventory annotation"):
        inv.annotated([foreign])


def test_adopt_if_no_inventory_acts_on_objects_of_this_inventory_or_none() -> None:
    def live(annotations: dict[str, str]) -> dict[str, object]:
        return {"metadata": {"name": "x", "annotations": annotations}}

    assert inv.policy_allows(live({}))
    assert inv.policy_allows(live({inv.OWNING_INVENTORY: inv.INVENTORY_NAME}))
    assert not inv.policy_allows(live({inv.OWNING_INVENTORY: "flux-system"}))
