"""Nodes are drained before they go down: a worker resize with a PDB-protected app never drops below its budget,
and the node is uncordoned once Ready again. (A removal drains first and never uncordons: test_node_removal.)"""

from __future__ import annotations

from typing import Any

import pytest

from runner.cli.lab.session import LabSession
from runner.lab.kube import KubeTwin
from tests.day2.conftest import CLUSTER_YAML, push_change, steps_of
from tests.day2.fewest import Fewest
from tests.e2e.labkit import describe

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-drain")]
WORKER_VMIDS = {"talos-worker-01": 303, "talos-worker-02": 304}


def rt(twin: KubeTwin, api_version: str, kind: str) -> Any:
    found = twin.catalog.by_kind(api_version, kind)
    assert found is not None
    return found


def shop_pods(twin: KubeTwin) -> list[dict[str, Any]]:
    return [
        p for p in twin.store.list(rt(twin, "v1", "Pod"), "default") if p["metadata"]["labels"].get("app") == "shop"
    ]


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions", []))


def ready_shop_pods(twin: KubeTwin) -> int:
    return sum(ready(p) for p in shop_pods(twin))


def deploy_shop(twin: KubeTwin) -> None:
    """What an app team would kubectl apply: 3 replicas that must keep 2 available."""
    labels = {"app": "shop"}
    twin.store.create(
        rt(twin, "apps/v1", "Deployment"),
        "default",
        {
            "metadata": {"name": "shop", "namespace": "default"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "shop", "image": "shop:1"}]},
                },
            },
        },
        "kubectl",
    )
    twin.store.create(
        rt(twin, "policy/v1", "PodDisruptionBudget"),
        "default",
        {
            "metadata": {"name": "shop", "namespace": "default"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": labels}},
        },
        "kubectl",
    )


def wait_all_ready(twin: KubeTwin) -> None:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        twin.reconcile()
        pods = shop_pods(twin)
        if len(pods) == 3 and all(ready(p) for p in pods):
            return
        time.sleep(0.05)
    raise AssertionError("shop never became Ready")


def test_a_resize_reboot_drains_first_keeps_the_budget_and_uncordons_after(lab: LabSession) -> None:
    twin = lab.world.kube_twin
    deploy_shop(twin)
    wait_all_ready(twin)
    by_node: dict[str, int] = {}
    for pod in shop_pods(twin):
        by_node[pod["spec"]["nodeName"]] = by_node.get(pod["spec"]["nodeName"], 0) + 1
    busiest = max(by_node, key=lambda n: by_node[n])
    assert by_node[busiest] == 2  # two of the three replicas share one worker: a careless reboot breaks the budget
    vmid = WORKER_VMIDS[busiest]
    text = (lab.clone / CLUSTER_YAML).read_text()
    start = text.index(f"  - name: {busiest}\n")
    changed = text[:start] + text[start:].replace("memory: 16384", "memory: 20480", 1)
    with Fewest(lambda: ready_shop_pods(twin), start=99, every=0.01) as watch:
        run = push_change(lab, text, changed, f"more memory for {busiest}")
    assert run["result"] == "success", describe(run)
    assert watch.fewest == 2, f"only {watch.fewest} shop pods were Ready at one point; the budget says 2"
    assert steps_of(lab, run) == [f"node/{busiest}/drain", f"vm/{vmid}/update", f"node/{busiest}/uncordon"]
    node = twin.store.get(rt(twin, "v1", "Node"), None, busiest)
    assert not node["spec"].get("unschedulable"), "the node is schedulable again"
    assert "runner.dev/cordoned" not in (node["metadata"].get("annotations") or {})
    assert lab.world.proxmox_state.vms[vmid].config["memory"] == "20480"
    assert all(p["spec"]["nodeName"] != busiest for p in shop_pods(twin))  # the evicted pods live elsewhere now
