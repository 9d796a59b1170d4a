"""On an adopted cluster a config difference Talos can only apply with a reboot is held, not sent.

The fields Talos applies at once are machined's CanApplyImmediate list (siderolabs/talos v1.13.9
internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go); any other v1alpha1 difference reboots.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from runner.core.planner import plan
from runner.core.steps import Kind
from runner.core.talos.immediate import reboot_paths
from tests.planner.scenario import converged, desired_for

KUBELET = {"image": "ghcr.io/siderolabs/kubelet:v1.32.1"}
OLD = [{"version": "v1alpha1", "machine": {"kubelet": KUBELET, "token": "***"}, "cluster": {"id": "***"}}]
LABELS = [{**OLD[0], "machine": {**OLD[0]["machine"], "nodeLabels": {"zone": "a"}}}]
ENV = [{**OLD[0], "machine": {**OLD[0]["machine"], "env": {"http_proxy": "http://10.0.0.1:3128"}}}]
HOSTNAME = [*OLD, {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "hostname": "talos-worker-01"}]


def test_only_fields_outside_the_immediate_list_need_a_reboot() -> None:
    assert reboot_paths(OLD, OLD) == []
    assert reboot_paths(OLD, LABELS) == []
    assert reboot_paths(OLD, HOSTNAME) == []  # other documents apply at once
    assert reboot_paths(OLD, ENV) == ["machine.env"]
    changed_cluster = [{**OLD[0], "cluster": {"id": "***", "clusterName": "x"}}]
    assert reboot_paths(OLD, changed_cluster) == []
    assert reboot_paths(OLD, [{**OLD[0], "persist": False}]) == ["persist"]


def _plan(new: list[Any], *, rollout: bool, live: list[Any] = OLD, schematic: str | None = None) -> Any:
    """An adopted talos-worker-01 running `live` (and `schematic`, if given) while the spec renders `new`."""
    desired = desired_for({"adoption": {"rollout": rollout}})
    observed = converged(desired)
    node = desired.nodes[3]
    desired = dataclasses.replace(
        desired,
        nodes=tuple(
            dataclasses.replace(n, config_hash="new", config_redacted=new) if n is node else n for n in desired.nodes
        ),
    )
    talos = dict(observed.talos)
    state = dataclasses.replace(talos[node.name], config_redacted=live)
    talos[node.name] = dataclasses.replace(state, schematic_id=schematic) if schematic else state
    cluster = dataclasses.replace(observed.cluster, adopted=True)
    return plan(desired, dataclasses.replace(observed, talos=talos, cluster=cluster))


def test_an_adopted_node_holds_a_config_change_that_needs_a_reboot() -> None:
    held = _plan(ENV, rollout=False)
    assert [s.id for s in held.steps] == []
    assert held.notes == (
        "talos-worker-01: machine config (machine.env) held: needs adoption.rollout (Talos applies it only with "
        "a reboot)",
    )
    applied = _plan(LABELS, rollout=False)
    step = applied.step("node/talos-worker-01/config")
    assert (step.params["mode"], step.disruptive) == ("no-reboot", False)


def test_with_rollout_it_is_applied_in_auto_mode_behind_a_drain() -> None:
    rolled = _plan(ENV, rollout=True)
    assert [s.kind for s in rolled.steps][:2] == [Kind.DRAIN_NODE, Kind.APPLY_CONFIG]
    assert rolled.step("node/talos-worker-01/config").params["mode"] == "auto"


def _with_install(config: list[Any], image: str) -> list[Any]:
    return [{**config[0], "machine": {**config[0]["machine"], "install": {"image": image}}}, *config[1:]]


LIVE = "factory.talos.dev/metal-installer/{}:v1.13.9".format("a" * 64)
SPEC = "factory.talos.dev/metal-installer/{}:v1.13.9".format("b" * 64)


def _plan_schematic(new: list[Any], *, rollout: bool) -> Any:
    """The worker on another schematic than the spec's, its config naming that schematic's installer."""
    return _plan(new, rollout=rollout, live=_with_install(OLD, LIVE), schematic="a" * 64)


def test_a_held_upgrade_holds_the_installer_its_config_names() -> None:
    held = _plan_schematic(_with_install(OLD, SPEC), rollout=False)
    assert [s.id for s in held.steps] == []
    assert [n for n in held.notes if n.startswith("talos-worker-01:")] == [
        f"talos-worker-01: schematic {'a' * 12}→{held_schematic()} held: needs adoption.rollout (an upgrade "
        "reboots it)",
        "talos-worker-01: machine config (machine.install.image) held with the upgrade",
    ]


def test_another_difference_still_applies_without_a_reboot_while_the_upgrade_is_held() -> None:
    applied = _plan_schematic(_with_install(LABELS, SPEC), rollout=False)
    step = applied.step("node/talos-worker-01/config")
    assert (step.params["mode"], step.disruptive) == ("no-reboot", False)
    assert not any(s.kind is Kind.UPGRADE_TALOS for s in applied.steps)


def test_with_rollout_the_installer_moves_with_the_upgrade() -> None:
    rolled = _plan_schematic(_with_install(OLD, SPEC), rollout=True)
    kinds = [s.kind for s in rolled.steps if s.target == "node/talos-worker-01"]
    assert kinds[:2] == [Kind.DRAIN_NODE, Kind.UPGRADE_TALOS]


def held_schematic() -> str:
    return desired_for({}).nodes[3].schematic_id[:12]
