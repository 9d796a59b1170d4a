"""Kubernetes upgrades in the plan: upgrade-k8s order, and no config apply when the configs differ only in
the component images (the upgrade steps bring them to the spec); anything else is applied afterwards."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from runner.core.planner import plan
from runner.core.simulate import apply_plan
from runner.core.steps import Kind
from runner.core.talos.k8s_upgrade import image_for, patch_component, without_images
from tests.planner.scenario import converged, desired_for

OLD = "v1.32.1"
NEW = "v1.33.2"


def _config(version: str, hostname: str = "n") -> list[dict[str, Any]]:
    tag = "v" + version.removeprefix("v")
    return [
        {
            "version": "v1alpha1",
            "machine": {"kubelet": {"image": f"ghcr.io/siderolabs/kubelet:{tag}"}, "network": {"hostname": hostname}},
            "cluster": {
                "apiServer": {"image": f"registry.k8s.io/kube-apiserver:{tag}"},
                "controllerManager": {"image": f"registry.k8s.io/kube-controller-manager:{tag}"},
                "scheduler": {"image": f"registry.k8s.io/kube-scheduler:{tag}"},
                "proxy": {"disabled": True, "image": f"registry.k8s.io/kube-proxy:{tag}"},
            },
        }
    ]


def test_patch_moves_one_image_and_nothing_else() -> None:
    before = _config(OLD)
    after = patch_component(before, "kube-scheduler", NEW)
    assert after is not None
    assert after[0]["cluster"]["scheduler"]["image"] == "registry.k8s.io/kube-scheduler:v1.33.2"
    assert after[0]["cluster"]["apiServer"] == before[0]["cluster"]["apiServer"]
    assert before == _config(OLD)  # the input is not modified
    assert patch_component(after, "kube-scheduler", NEW) is None  # already there
    assert image_for("kubelet", "1.33.2") == "ghcr.io/siderolabs/kubelet:v1.33.2"


def test_all_patches_together_give_the_new_config() -> None:
    config = _config(OLD)
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kubelet"):
        config = patch_component(config, component, NEW) or config
    assert config == _config(NEW)
    assert without_images(_config(OLD)) == without_images(_config(NEW))
    assert without_images(_config(OLD, "a")) != without_images(_config(NEW, "b"))


def _upgrade(other_change: bool) -> tuple[Any, Any, Any]:
    before = desired_for(None)
    observed = converged(before)
    desired = desired_for({"kubernetes.version": NEW})
    nodes = []
    for node in desired.nodes:
        new = _config(NEW, node.name + ("-renamed" if other_change and node.name == "talos-worker-01" else ""))
        nodes.append(dataclasses.replace(node, config_hash=f"new-{node.name}", config_redacted=new))
    desired = dataclasses.replace(desired, nodes=tuple(nodes))
    talos = {
        name: dataclasses.replace(
            t, kubernetes_version=OLD, config_hash=f"old-{name}", config_redacted=_config(OLD, name)
        )
        for name, t in observed.talos.items()
    }
    observed = dataclasses.replace(observed, talos=talos)
    return desired, observed, plan(desired, observed)


def test_an_images_only_difference_plans_no_config_apply() -> None:
    desired, observed, result = _upgrade(other_change=False)
    assert [s.kind for s in result.steps if s.kind is Kind.APPLY_CONFIG] == []
    kubelets = [s for s in result.steps if s.kind is Kind.UPGRADE_KUBERNETES and s.params["component"] == "kubelet"]
    assert [s.params["config_hash"] for s in kubelets] == [f"new-{s.params['node_name']}" for s in kubelets]
    # No reboots: static pods and kubelets restart. The only disruption is each node's drain around its kubelet
    # restart (issue: a Kubernetes upgrade of a node moves its pods off first).
    disruptive = [s for s in result.steps if s.disruptive]
    assert [s.kind for s in disruptive] == [Kind.DRAIN_NODE] * len(kubelets)
    assert [s.params["node_name"] for s in disruptive] == [s.params["node_name"] for s in kubelets]
    # After the plan the cluster is converged: nothing left to do.
    assert plan(desired, apply_plan(copy.deepcopy(observed), desired, result)).empty


def test_another_config_change_is_applied_after_the_upgrade() -> None:
    _, _, result = _upgrade(other_change=True)
    [apply] = [s for s in result.steps if s.kind is Kind.APPLY_CONFIG]
    assert apply.target == "node/talos-worker-01"
    assert "kubernetes/manifests" in apply.depends_on
