"""Drain a node before it goes down: cordon, evict through the Eviction API until it is empty, or give up.

What kubectl drain does by default (k8s.io/kubectl/pkg/drain): DaemonSet pods stay (their controller would
put them straight back, and tolerates the cordon), mirror pods stay (the kubelet owns them), a pod without a
controller stops the drain (evicting it would lose it for good), everything else is evicted and waited for.
A PodDisruptionBudget that refuses (429) is waited on until the deadline; then the drain fails naming it and
the node is uncordoned again, so a refused drain leaves the cluster as it found it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from runner.core.errors import Cancelled, Permanent
from runner.drivers.kube import EvictionBlocked, KubeApi, PodInfo


def _stays(pod: PodInfo) -> bool:
    return pod.owner_kind == "DaemonSet" or pod.mirror


def drain_node(
    kube: KubeApi,
    node: str,
    *,
    timeout: float,
    poll: float,
    cancel: threading.Event,
    log: Callable[[str], None],
) -> str:
    if not kube.cordon(node):
        return f"{node} is not a Kubernetes node: nothing to drain"
    try:
        return _evict_all(kube, node, timeout, poll, cancel, log)
    except BaseException:
        kube.cordon(node, False)  # the step that needed the drain will not run now: schedule on the node again
        raise


def _evict_all(
    kube: KubeApi, node: str, timeout: float, poll: float, cancel: threading.Event, log: Callable[[str], None]
) -> str:
    deadline = time.monotonic() + timeout
    evicted = 0
    said: set[str] = set()
    while True:
        leaving = [p for p in kube.pods_on(node) if not _stays(p)]
        bare = [p for p in leaving if p.owner_kind is None and not p.terminating]
        if bare:
            names = ", ".join(f"{p.namespace}/{p.name}" for p in bare)
            raise Permanent(
                f"cannot drain {node}: {names} has no controller, so evicting it would lose it for good; "
                "delete it or run it under a Deployment"
            )
        if not leaving:
            return f"cordoned {node} and evicted {evicted} pods"
        blocked: list[str] = []
        for pod in leaving:
            if pod.terminating:
                continue
            try:
                evicted += kube.evict(pod.namespace, pod.name)
            except EvictionBlocked as exc:
                blocked.append(str(exc))
        for why in blocked:
            if why not in said:  # say each refusal once, not once a poll
                said.add(why)
                log(f"drain {node}: {why}; waiting")
        if time.monotonic() >= deadline:
            why = blocked[0] if blocked else f"{len(leaving)} pods still terminating"
            raise Permanent(f"drain of {node} did not finish within {timeout:.0f}s: {why}")
        if cancel.wait(poll):
            raise Cancelled(f"drain of {node} cancelled")


def uncordon_when_ready(kube: KubeApi, node: str, *, wait: Callable[[Callable[[], object], str], object]) -> str:
    if kube.node_is_ready(node) is None:
        return f"{node} is not a Kubernetes node"
    wait(lambda: kube.node_is_ready(node), f"Kubernetes node {node} Ready")
    if not kube.cordon(node, False):
        return f"{node} Ready; left cordoned: it was cordoned by hand, not by the runner"
    return f"{node} Ready and schedulable again"
