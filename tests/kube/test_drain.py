"""Draining through the real Eviction API of the twin: PDBs answer 429 as the API server does, DaemonSet pods
stay, the ReplicaSet puts evicted pods elsewhere, and the drain fails naming the budget that blocks it."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from lightkube.resources.core_v1 import Node
from lightkube.types import PatchType

from runner.core.errors import Permanent
from runner.drivers.kube import EvictionBlocked, LightkubeApi
from runner.engine.reconcile.drain import drain_node, uncordon_when_ready
from runner.lab.kube import KubeTwin
from tests.kube.conftest import Lab


def kinds(twin: KubeTwin, api_version: str, kind: str) -> Any:
    rt = twin.catalog.by_kind(api_version, kind)
    assert rt is not None
    return rt


def create(twin: KubeTwin, api_version: str, kind: str, namespace: str, name: str, spec: dict[str, Any]) -> None:
    """Write an object straight into the twin's store, as another client of the API server would."""
    body = {"metadata": {"name": name, "namespace": namespace}, "spec": spec}
    twin.store.create(kinds(twin, api_version, kind), namespace, body, "test")


def deploy(twin: KubeTwin, name: str, replicas: int, min_available: int | str | None = None) -> None:
    labels = {"app": name}
    pod_spec = {"containers": [{"name": name, "image": f"ghcr.io/example/{name}:1"}]}
    spec = {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": pod_spec},
    }
    create(twin, "apps/v1", "Deployment", "default", name, spec)
    if min_available is not None:
        spec = {"minAvailable": min_available, "selector": {"matchLabels": labels}}
        create(twin, "policy/v1", "PodDisruptionBudget", "default", name, spec)


def pods(twin: KubeTwin, app: str | None = None) -> list[dict[str, Any]]:
    return [
        p
        for p in twin.store.list(kinds(twin, "v1", "Pod"), None)
        if app is None or p["metadata"].get("labels", {}).get("app") == app
    ]


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions", []))


def settle(twin: KubeTwin) -> None:
    twin.reconcile()
    deadline = time.monotonic() + 10
    while not twin.pods.settled() and time.monotonic() < deadline:
        time.sleep(0.05)
        twin.reconcile()


@pytest.fixture
def cluster(lab: Lab) -> Lab:
    lab.twin.pods.start_seconds = 0.3
    lab.join_all_nodes()
    lab.twin.cluster.set_cni_ready()
    deploy(lab.twin, "web", 3, min_available=2)
    settle(lab.twin)
    return lab


def test_an_eviction_that_would_break_a_budget_gets_the_api_servers_429(cluster: Lab, api: LightkubeApi) -> None:
    on_worker = sorted(
        p["metadata"]["name"] for p in pods(cluster.twin, "web") if p["spec"]["nodeName"] == "talos-worker-01"
    )
    assert len(on_worker) == 2  # spread: two on worker-01, one on worker-02 (controllers are tainted)
    assert api.evict("default", on_worker[0]) is True
    with pytest.raises(EvictionBlocked) as blocked:
        api.evict("default", on_worker[1])  # the replacement is not Ready yet: 2 healthy, 2 needed
    assert str(blocked.value) == (
        f"evicting default/{on_worker[1]}: The disruption budget web needs 2 healthy pods and has 2 currently"
    )
    assert len(pods(cluster.twin, "web")) == 3  # the ReplicaSet replaced the evicted pod at once
    assert api.evict("default", "no-such-pod") is False


def test_drain_honours_the_budget_keeps_daemonset_pods_and_never_drops_below_min_available(
    cluster: Lab, api: LightkubeApi
) -> None:
    twin = cluster.twin
    spec = {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {
            "metadata": {"labels": {"app": "agent"}},
            "spec": {"containers": [{"name": "a", "image": "agent:1"}]},
        },
    }
    create(twin, "apps/v1", "DaemonSet", "kube-system", "agent", spec)
    settle(twin)
    lowest = [3]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            twin.reconcile()
            lowest[0] = min(lowest[0], sum(ready(p) for p in pods(twin, "web")))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    lines: list[str] = []
    message = drain_node(api, "talos-worker-01", timeout=30, poll=0.05, cancel=threading.Event(), log=lines.append)
    done.set()
    watcher.join()
    assert message == "cordoned talos-worker-01 and evicted 2 pods"
    assert lowest[0] == 2
    left = {p["metadata"]["labels"]["app"] for p in pods(twin) if p["spec"].get("nodeName") == "talos-worker-01"}
    assert left == {"agent"}  # the DaemonSet pod stays, as kubectl drain leaves it
    assert any("The disruption budget web needs 2 healthy pods" in line for line in lines)
    node = twin.store.get(kinds(twin, "v1", "Node"), None, "talos-worker-01")
    assert node["spec"]["unschedulable"] is True
    assert node["metadata"]["annotations"]["runner.dev/cordoned"] == "true"
    assert api.cordoned_by_runner() == {"talos-worker-01"}

    said = uncordon_when_ready(api, "talos-worker-01", wait=lambda check, what: check() or pytest.fail(what))
    assert said == "talos-worker-01 Ready and schedulable again"
    node = twin.store.get(kinds(twin, "v1", "Node"), None, "talos-worker-01")
    assert "unschedulable" not in node["spec"] and "runner.dev/cordoned" not in node["metadata"].get("annotations", {})


def test_a_budget_that_never_allows_it_fails_the_drain_by_name_and_uncordons(cluster: Lab, api: LightkubeApi) -> None:
    deploy(cluster.twin, "db", 1, min_available=1)
    settle(cluster.twin)
    (db,) = pods(cluster.twin, "db")
    node = db["spec"]["nodeName"]
    with pytest.raises(Permanent) as failed:
        drain_node(api, node, timeout=0.5, poll=0.05, cancel=threading.Event(), log=lambda line: None)
    assert str(failed.value) == (
        f"drain of {node} did not finish within 0s: evicting default/{db['metadata']['name']}: "
        "The disruption budget db needs 1 healthy pods and has 1 currently"
    )
    assert pods(cluster.twin, "db")[0]["metadata"]["name"] == db["metadata"]["name"]  # still there
    assert api.cordoned_by_runner() == set()  # refused drains leave the node schedulable


def test_a_pod_without_a_controller_stops_the_drain(cluster: Lab, api: LightkubeApi) -> None:
    twin = cluster.twin
    spec = {"nodeName": "talos-worker-02", "containers": [{"name": "s", "image": "busybox"}]}
    create(twin, "v1", "Pod", "default", "scratch", spec)
    with pytest.raises(Permanent, match=r"cannot drain talos-worker-02: default/scratch has no controller"):
        drain_node(api, "talos-worker-02", timeout=5, poll=0.05, cancel=threading.Event(), log=lambda line: None)
    assert api.cordoned_by_runner() == set()


def test_draining_a_node_kubernetes_does_not_know_is_a_no_op(cluster: Lab, api: LightkubeApi) -> None:
    said = drain_node(api, "talos-worker-09", timeout=5, poll=0.05, cancel=threading.Event(), log=lambda line: None)
    assert said == "talos-worker-09 is not a Kubernetes node: nothing to drain"


def test_a_pod_under_two_budgets_is_refused_for_good(cluster: Lab, api: LightkubeApi) -> None:
    twin = cluster.twin
    spec = {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}
    create(twin, "policy/v1", "PodDisruptionBudget", "default", "web-too", spec)
    name = pods(twin, "web")[0]["metadata"]["name"]
    with pytest.raises(Permanent) as refused:
        api.evict("default", name)
    assert str(refused.value) == (
        f"evicting default/{name}: This pod has more than one PodDisruptionBudget, which the eviction subresource "
        "does not support."
    )


def cordon_by_hand(api: LightkubeApi, node: str) -> None:
    """What `kubectl cordon` sends: spec.unschedulable only, no annotation of the runner's."""
    api._client.patch(Node, node, {"spec": {"unschedulable": True}}, patch_type=PatchType.STRATEGIC)


def schedulable(twin: KubeTwin, node: str) -> bool:
    return not twin.store.get(kinds(twin, "v1", "Node"), None, node)["spec"].get("unschedulable")


def test_a_node_cordoned_by_hand_is_not_one_the_runner_cordoned(cluster: Lab, api: LightkubeApi) -> None:
    """The next reconcile uncordons what the runner left cordoned, and only that: a hand cordon is not listed."""
    cordon_by_hand(api, "talos-worker-01")
    assert api.cordon("talos-worker-02") is True
    assert api.cordoned_by_runner() == {"talos-worker-02"}
    assert not schedulable(cluster.twin, "talos-worker-01")


def test_a_node_cordoned_by_hand_stays_cordoned_through_the_runners_drain_and_uncordon(
    cluster: Lab, api: LightkubeApi
) -> None:
    """A reboot of a hand-cordoned node still drains it first, but the uncordon after it leaves the person's
    cordon alone, and so does a drain that gives up."""
    cordon_by_hand(api, "talos-worker-01")
    drain_node(api, "talos-worker-01", timeout=30, poll=0.05, cancel=threading.Event(), log=lambda line: None)
    assert api.cordoned_by_runner() == set()  # the runner did not make this cordon its own
    said = uncordon_when_ready(api, "talos-worker-01", wait=lambda check, what: check() or pytest.fail(what))
    assert said == "talos-worker-01 Ready; left cordoned: it was cordoned by hand, not by the runner"
    assert not schedulable(cluster.twin, "talos-worker-01")

    deploy(cluster.twin, "db", 1, min_available=1)  # a drain that never finishes, then gives up
    settle(cluster.twin)
    (db,) = pods(cluster.twin, "db")
    node = db["spec"]["nodeName"]
    cordon_by_hand(api, node)
    with pytest.raises(Permanent, match="did not finish"):
        drain_node(api, node, timeout=0.3, poll=0.05, cancel=threading.Event(), log=lambda line: None)
    assert not schedulable(cluster.twin, node)
