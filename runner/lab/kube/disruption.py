"""PodDisruptionBudgets and the Eviction API: what makes a drain wait instead of taking a service down.

What the real control plane does and the twin imitates (Kubernetes v1.32): the disruption controller computes
a PDB's currentHealthy / desiredHealthy / disruptionsAllowed, and the Eviction subresource answers 429 with a
`DisruptionBudget` cause when an eviction would break it (pkg/registry/core/pod/storage/eviction.go,
checkAndDecrement), deletes the pod otherwise (201).
"""

from __future__ import annotations

import math
from typing import Any

from . import errors
from .pods import PodSim, owner_of


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels") or {}
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def _denied(pdb: dict[str, Any], status: dict[str, Any]) -> str:
    """disruptionDeniedMessage's wording for a budget short of healthy pods."""
    name, need, have = pdb["metadata"]["name"], status["desiredHealthy"], status["currentHealthy"]
    return f"The disruption budget {name} needs {need} healthy pods and has {have} currently"


def _scaled(value: int | str, total: int) -> int:
    """An IntOrString of a PDB: a count, or a percentage of the expected pods rounded up (as intstr does)."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


class DisruptionSim:
    """The disruption controller and the Eviction subresource, over the pods PodSim keeps."""

    def __init__(self, pods: PodSim) -> None:
        self.pods, self.store, self.rt = pods, pods.store, pods.rt

    def _budget_status(self, pdb: dict[str, Any]) -> dict[str, Any]:
        spec, namespace = pdb.get("spec") or {}, pdb["metadata"]["namespace"]
        selector = spec.get("selector") or {}
        pods = [p for p in self.pods.pods(namespace) if _selects(selector, p["metadata"].get("labels") or {})]
        expected = self._expected(pods)
        healthy = sum(1 for p in pods if self.pods.ready(p))
        if "minAvailable" in spec:
            desired = _scaled(spec["minAvailable"], expected)
        else:
            desired = max(0, expected - _scaled(spec.get("maxUnavailable", 0), expected))
        allowed = max(0, healthy - desired)
        return {
            "observedGeneration": pdb["metadata"].get("generation", 1),
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "expectedPods": expected,
            "disruptionsAllowed": allowed,
            "conditions": [
                {
                    "type": "DisruptionAllowed",
                    "status": str(allowed > 0),
                    "reason": "SufficientPods" if allowed > 0 else "InsufficientPods",
                }
            ],
        }

    def _expected(self, pods: list[dict[str, Any]]) -> int:
        """As the disruption controller: the scale of each pod's controller, or 1 for a pod without one."""
        owners: dict[str, int] = {}
        bare = 0
        for pod in pods:
            owner = owner_of(pod)
            if owner and owner["kind"] == "ReplicaSet":
                rs = self.store.find(self.rt("apps/v1", "ReplicaSet"), pod["metadata"]["namespace"], owner["name"])
                owners[owner["uid"]] = int(((rs or {}).get("spec") or {}).get("replicas", 1))
            else:
                bare += 1
        return sum(owners.values()) + bare

    def sync(self) -> None:
        rt = self.rt("policy/v1", "PodDisruptionBudget")
        for pdb in self.store.list(rt, None):
            self.store.set_status(rt, pdb["metadata"]["namespace"], pdb["metadata"]["name"], self._budget_status(pdb))

    def evict(self, namespace: str, name: str) -> dict[str, Any]:
        pod_type = self.rt("v1", "Pod")
        pod = self.store.get(pod_type, namespace, name)
        phase = (pod.get("status") or {}).get("phase", "Pending")
        if phase in ("Succeeded", "Failed", "Pending"):  # canIgnorePDB: nothing running to protect
            return self._evicted(pod)
        labels = pod["metadata"].get("labels") or {}
        budgets = [
            b
            for b in self.store.list(self.rt("policy/v1", "PodDisruptionBudget"), namespace)
            if _selects((b.get("spec") or {}).get("selector") or {}, labels)
        ]
        if len(budgets) > 1:
            raise errors.ApiStatusError(
                500,
                "InternalError",
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            )
        if budgets:
            status = self._budget_status(budgets[0])
            healthy_budget = status["currentHealthy"] >= status["desiredHealthy"]
            unhealthy_pod_may_go = (
                not self.pods.ready(pod) and healthy_budget
            )  # unhealthyPodEvictionPolicy IfHealthyBudget
            if status["disruptionsAllowed"] == 0 and not unhealthy_pod_may_go:
                raise errors.ApiStatusError(
                    429,
                    "TooManyRequests",
                    "Cannot evict pod as it would violate the pod's disruption budget.",
                    {"causes": [{"reason": "DisruptionBudget", "message": _denied(budgets[0], status)}]},
                )
        return self._evicted(pod)

    def _evicted(self, pod: dict[str, Any]) -> dict[str, Any]:
        self.pods.delete_pod(pod)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
