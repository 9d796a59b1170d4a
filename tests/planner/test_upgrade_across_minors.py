"""One commit from Talos v1.11 / Kubernetes v1.32 to Talos v1.13 / Kubernetes v1.35: the plan walks the
documented path, one whole-cluster stage at a time, one node at a time, and converges."""

from __future__ import annotations

import dataclasses
import itertools

from runner.core.derive import Desired, derive
from runner.core.planner import plan
from runner.core.planner.builder import PlanBuilder
from runner.core.planner.flux_order import flux_ready_after
from runner.core.render.markdown import render_markdown
from runner.core.render.terminal import render_terminal
from runner.core.simulate import apply_plan
from runner.core.state import Observed
from runner.core.steps import Kind, Plan
from tests.planner.scenario import (
    FLUX,
    REFERENCE_V1_11,
    ancestors,
    converged,
    desired_for,
    edit_observed,
    edited_cluster,
    with_config_hashes,
)

TARGET = {"talos.version": "v1.13.9", "kubernetes.version": "v1.35.2"}
NODES = ["talos-cp-01", "talos-cp-02", "talos-cp-03", "talos-worker-01", "talos-worker-02"]


def _target() -> Desired:
    # the v1.13 configs differ from the v1.11 ones the nodes run (multi-document network)
    return with_config_hashes(derive(edited_cluster(TARGET, REFERENCE_V1_11), flux_version=FLUX), salt="-v1.13")


def _plan() -> tuple[Plan, Desired, Observed]:
    desired = _target()
    observed = converged(desired_for(None, REFERENCE_V1_11))  # the reference cluster as pinned at v1.11.2 / v1.32.1
    return plan(desired, observed), desired, observed


def test_talos_passes_each_minor_at_its_latest_patch_one_node_at_a_time_controllers_first() -> None:
    result, _, _ = _plan()
    upgrades = [(s.params["node_name"], s.params["version"]) for s in result.steps if s.kind is Kind.UPGRADE_TALOS]
    assert upgrades == [(n, "v1.12.11") for n in NODES] + [(n, "v1.13.9") for n in NODES]
    first = next(s for s in result.steps if s.kind is Kind.UPGRADE_TALOS)
    assert first.id == "node/talos-cp-01/upgrade-v1.12.11"
    assert first.params["image"].endswith(":v1.12.11") and first.params["stage"] == "1/5 Talos v1.12.11"
    assert result.conflicts == ()


def test_kubernetes_moves_one_minor_at_a_time_after_talos_and_configs_come_last() -> None:
    result, _, _ = _plan()
    stages = list(dict.fromkeys(str(s.params["stage"]) for s in result.steps if "stage" in s.params))
    assert stages == [
        "1/5 Talos v1.12.11",
        "2/5 Talos v1.13.9",
        "3/5 Kubernetes v1.33.6",
        "4/5 Kubernetes v1.34.1",
        "5/5 Kubernetes v1.35.2",
    ]
    kinds = [s.kind for s in result.steps if s.kind in (Kind.UPGRADE_TALOS, Kind.UPGRADE_KUBERNETES, Kind.APPLY_CONFIG)]
    last_upgrade = max(i for i, k in enumerate(kinds) if k is not Kind.APPLY_CONFIG)
    assert kinds[last_upgrade + 1 :] == [Kind.APPLY_CONFIG] * len(NODES)
    # the spec's (v1.13) config reaches a node only after that node runs v1.13.9
    for name in NODES:
        config = f"node/{name}/config"
        if config in {s.id for s in result.steps}:
            assert f"node/{name}/upgrade" in ancestors(result, config)


def test_every_disruptive_step_waits_for_the_one_before_and_the_snapshot_comes_before_the_first_controller() -> None:
    result, _, _ = _plan()
    disruptive = [s for s in result.steps if s.disruptive]
    for before, after in itertools.pairwise(disruptive):
        assert before.id in ancestors(result, after.id), f"{after.id} does not wait for {before.id}"
    # no backups configured: an upgrade across minors snapshots etcd anyway
    assert "etcd_snapshot" in ancestors(result, "node/talos-cp-01/upgrade-v1.12.11")
    # every Talos upgrade is drained first and uncordoned after
    for step in result.steps:
        if step.kind is Kind.UPGRADE_TALOS:
            assert step.depends_on and step.depends_on[0].startswith(f"node/{step.params['node_name']}/drain")


def test_the_plan_converges_with_nothing_left_to_do() -> None:
    result, desired, observed = _plan()
    after = apply_plan(observed, desired, result)
    assert {t.talos_version for t in after.talos.values()} == {"v1.13.9"}
    assert {t.kubernetes_version for t in after.talos.values()} == {"v1.35.2"}
    assert plan(desired, after).steps == ()


def test_a_run_that_stopped_half_way_continues_where_it_stopped() -> None:
    desired = _target()
    observed = edit_observed(
        converged(desired_for(None, REFERENCE_V1_11)),
        [{"talos": "talos-cp-01", "talos_version": "v1.12.11"}, {"talos": "talos-cp-02", "talos_version": "v1.12.11"}],
    )
    result = plan(desired, observed)
    upgrades = [(s.params["node_name"], s.params["version"]) for s in result.steps if s.kind is Kind.UPGRADE_TALOS]
    assert upgrades == [(n, "v1.12.11") for n in NODES[2:]] + [(n, "v1.13.9") for n in NODES]


def test_the_pr_comment_shows_the_order() -> None:
    result, _, _ = _plan()
    text = render_markdown(result)
    start = text.index("**Upgrade order**")
    block = text[start:].split("\n\n")[1].splitlines()
    talos = [
        f"Talos {v} on {n} (stage {s})"
        for v, s in (("v1.12.11", "1/5 Talos v1.12.11"), ("v1.13.9", "2/5 Talos v1.13.9"))
        for n in NODES
    ]
    kube = [
        f"Kubernetes {v}: control plane on each controller, then each node's kubelet (stage {i}/5 Kubernetes {v})"
        for i, v in ((3, "v1.33.6"), (4, "v1.34.1"), (5, "v1.35.2"))
    ]
    expected = [*talos, *kube, "each node's machine config for the target Talos, once it runs that Talos"]
    assert block == [f"{i}. {line}" for i, line in enumerate(expected, 1)]
    assert text.index("**Upgrade order**") < text.index("<details>")  # visible without unfolding


def test_a_flux_change_waits_for_the_kubernetes_it_needs() -> None:
    desired = dataclasses.replace(_target(), flux_version="v2.9.0")
    observed = converged(desired_for(None, REFERENCE_V1_11))
    result = plan(desired, observed)
    last_133 = "kubernetes/v1.33.6/kubelet/talos-worker-02"  # every node runs v1.33 after it
    assert flux_ready_after_plan(result, observed, "v2.9.0") == last_133
    assert last_133 in result.step("flux/upgrade").depends_on  # the running v2.3 is upgraded, never re-installed
    assert flux_ready_after_plan(result, observed, "v2.3.0") is None  # v1.32 is enough


def flux_ready_after_plan(result: Plan, observed: Observed, flux: str) -> str | None:
    builder = PlanBuilder(result.cluster, {s.id: s for s in result.steps})
    return flux_ready_after(builder, observed, flux)


def test_the_new_minors_config_is_drained_like_an_upgrade_one_node_at_a_time() -> None:
    result, _, _ = _plan()
    for name in NODES:
        config = result.step(f"node/{name}/config")
        assert config.disruptive and config.params["reboots"] is True
        assert config.depends_on[0].startswith(f"node/{name}/drain"), config.depends_on


def test_a_crashed_controller_holds_every_controller_upgrade_of_the_path() -> None:
    desired = _target()
    observed = converged(desired_for(None, REFERENCE_V1_11))
    crashed = edit_observed(observed, [{"talos": "talos-cp-02", "stage": "unreachable", "ran_before": True}])
    result = plan(desired, crashed)
    controllers = {"talos-cp-01", "talos-cp-02", "talos-cp-03"}
    upgraded = {s.params["node_name"] for s in result.steps if s.kind is Kind.UPGRADE_TALOS}
    assert not upgraded & controllers, upgraded


def test_runner_plan_prints_the_order_too() -> None:
    result, _, _ = _plan()
    text = render_terminal(result, width=400)
    start = text.index("upgrade order:\n")
    lines = text[start:].splitlines()[1:4]
    assert lines == [
        "  1. Talos v1.12.11 on talos-cp-01 (stage 1/5 Talos v1.12.11)",
        "  2. Talos v1.12.11 on talos-cp-02 (stage 1/5 Talos v1.12.11)",
        "  3. Talos v1.12.11 on talos-cp-03 (stage 1/5 Talos v1.12.11)",
    ]


def test_kubernetes_across_two_minors_on_one_talos_passes_each_and_does_not_drain_the_configs() -> None:
    desired = with_config_hashes(
        derive(edited_cluster({"kubernetes.version": "v1.34.2"}, REFERENCE_V1_11), flux_version=FLUX), "-k"
    )
    result = plan(desired, converged(desired_for(None, REFERENCE_V1_11)))
    stages = list(dict.fromkeys(str(s.params["stage"]) for s in result.steps if "stage" in s.params))
    assert stages == ["1/2 Kubernetes v1.33.6", "2/2 Kubernetes v1.34.2"]
    configs = [s for s in result.steps if s.kind is Kind.APPLY_CONFIG]
    assert len(configs) == 5 and not any(s.params.get("reboots") for s in configs)
    assert [s.disruptive for s in configs] == [True, True, True, False, False]  # controllers: etcd waits
