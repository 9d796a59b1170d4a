"""Pods, ReplicaSets, PodDisruptionBudgets and the Eviction API: enough for a node drain to mean something.

What the real control plane does and the twin imitates (Kubernetes v1.32):
- the ReplicaSet controller keeps `replicas` pods per Deployment, re-creating an evicted pod at once; the
  scheduler places it on a node that is schedulable (`spec.unschedulable` unset, the
  `node.kubernetes.io/unschedulable` taint's meaning), whose taints it tolerates, spreading replicas;
- the DaemonSet controller puts one pod on every matching node and adds the unschedulable toleration
  itself, so a cordon never moves DaemonSet pods (kubectl drain skips them for that reason);
- a new pod is Ready only some time after it starts, and a pod on a node whose kubelet is gone is not Ready;
- the disruption controller computes a PDB's currentHealthy / desiredHealthy / disruptionsAllowed, and the
  Eviction subresource answers 429 with a `DisruptionBudget` cause when an eviction would break it
  (pkg/registry/core/pod/storage/eviction.go, checkAndDecrement), deletes the pod otherwise (201).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import uuid
from collections.abc import Callable
from typing import Any

from . import errors
from .catalog import Catalog, ResourceType
from .cluster import ClusterSim, tolerates
from .store import Store, now

UNSCHEDULABLE = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


def _owner(obj: dict[str, Any]) -> dict[str, Any] | None:
    refs = obj["metadata"].get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), None)


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


class PodSim:
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        cluster: ClusterSim,
        start_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.catalog, self.cluster = store, catalog, cluster
        self.start_seconds, self.clock = start_seconds, clock
        self.kubelets_down: set[str] = set()
        self._ready_at: dict[tuple[str, str], float] = {}

    def _rt(self, api_version: str, kind: str) -> ResourceType:
        rt = self.catalog.by_kind(api_version, kind)
        assert rt is not None
        return rt

    # --- controllers ---------------------------------------------------------------------------
    def sync(self) -> None:
        for deployment in self.store.list(self._rt("apps/v1", "Deployment"), None):
            self._sync_replicaset(deployment)
        self._sync_daemonsets()
        self._schedule_pending()
        self._sync_pod_status()
        self._sync_budgets()

    def settled(self) -> bool:
        """No pod is still starting: the twin changes nothing more by itself until something is written."""
        return not self._ready_at

    def due(self) -> bool:
        """A pod's readiness delay ran out since the last look (time moves the twin, not only writes)."""
        t = self.clock()
        return any(t >= at for at in self._ready_at.values())

    def _sync_replicaset(self, deployment: dict[str, Any]) -> None:
        meta, spec = deployment["metadata"], deployment.get("spec") or {}
        template = spec.get("template") or {}
        digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
        name, namespace = f"{meta['name']}-{digest}", meta["namespace"]
        rs_type = self._rt("apps/v1", "ReplicaSet")
        labels = {**(template.get("metadata") or {}).get("labels", {}), "pod-template-hash": digest}
        if self.store.find(rs_type, namespace, name) is None:
            self.store.create(
                rs_type,
                namespace,
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": name,
                        "namespace": namespace,
                        "labels": labels,
                        "ownerReferences": [self._ref(deployment)],
                    },
                    "spec": {
                        "replicas": spec.get("replicas", 1),
                        "selector": {"matchLabels": labels},
                        "template": {**template, "metadata": {"labels": labels}},
                    },
                },
                "kube-controller-manager",
            )
        replicaset = self.store.get(rs_type, namespace, name)
        pods = self._owned_pods(namespace, "ReplicaSet", name)
        old = [
            p
            for p in self._pods(namespace)
            if (o := _owner(p))
            and o["kind"] == "ReplicaSet"
            and o["name"].startswith(f"{meta['name']}-")
            and o["name"] != name
        ]
        for pod in old:  # a new template replaces the old ReplicaSet's pods
            self._delete_pod(pod)
        for _ in range(int(spec.get("replicas", 1)) - len(pods)):
            self._create_pod(replicaset, template.get("spec") or {}, labels)

    def _sync_daemonsets(self) -> None:
        for ds in self.store.list(self._rt("apps/v1", "DaemonSet"), None):
            template = (ds.get("spec") or {}).get("template") or {}
            pod_spec = dict(template.get("spec") or {})
            pod_spec["tolerations"] = [*(pod_spec.get("tolerations") or []), {**UNSCHEDULABLE, "operator": "Exists"}]
            placed = {
                p["spec"].get("nodeName")
                for p in self._owned_pods(ds["metadata"]["namespace"], "DaemonSet", ds["metadata"]["name"])
            }
            for node in self._eligible(pod_spec):
                if node not in placed:
                    self._create_pod(ds, pod_spec, (template.get("metadata") or {}).get("labels", {}), node)

    def _eligible(self, pod_spec: dict[str, Any]) -> list[str]:
        out = []
        for node in self.store.list(self._rt("v1", "Node"), None):
            labels = node["metadata"].get("labels", {})
            if any(labels.get(k) != v for k, v in (pod_spec.get("nodeSelector") or {}).items()):
                continue
            taints = [t for t in node.get("spec", {}).get("taints") or [] if t.get("effect") != "PreferNoSchedule"]
            if node.get("spec", {}).get("unschedulable"):
                taints.append(UNSCHEDULABLE)
            if all(tolerates(pod_spec.get("tolerations") or [], t) for t in taints):
                out.append(node["metadata"]["name"])
        return out

    def _create_pod(
        self, owner: dict[str, Any], pod_spec: dict[str, Any], labels: dict[str, str], node: str | None = None
    ) -> None:
        namespace = owner["metadata"]["namespace"]
        if node is None:  # spread: the node with the fewest pods of this owner, then the fewest pods at all
            counts = {n: 0 for n in self._eligible(pod_spec)}
            for pod in self._pods(None):
                where = pod["spec"].get("nodeName")
                if where in counts:
                    counts[where] += 1000 if (_owner(pod) or {}).get("uid") == owner["metadata"]["uid"] else 1
            node = min(counts, key=lambda n: (counts[n], n)) if counts else None
        name = f"{owner['metadata']['name']}-{uuid.uuid4().hex[:5]}"
        spec = {**pod_spec, **({"nodeName": node} if node else {})}
        self.store.create(
            self._rt("v1", "Pod"),
            namespace,
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": labels,
                    "ownerReferences": [self._ref(owner)],
                },
                "spec": spec,
            },
            "kube-controller-manager",
        )
        self._ready_at[(namespace, name)] = self.clock() + self.start_seconds

    @staticmethod
    def _ref(owner: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": owner.get("apiVersion", "apps/v1"),
            "kind": owner["kind"],
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
            "controller": True,
        }

    def _pods(self, namespace: str | None) -> list[dict[str, Any]]:
        return self.store.list(self._rt("v1", "Pod"), namespace)

    def _owned_pods(self, namespace: str, kind: str, name: str) -> list[dict[str, Any]]:
        return [p for p in self._pods(namespace) if (o := _owner(p)) and (o["kind"], o["name"]) == (kind, name)]

    def _delete_pod(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        self.store.delete(self._rt("v1", "Pod"), meta["namespace"], meta["name"])
        self._ready_at.pop((meta["namespace"], meta["name"]), None)

    def _ready(self, pod: dict[str, Any]) -> bool:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        started = key not in self._ready_at or self.clock() >= self._ready_at[key]
        if started:
            self._ready_at.pop(key, None)
        node = pod["spec"].get("nodeName")
        if not node or node in self.kubelets_down:
            return False
        return started and bool(pod["spec"].get("hostNetwork") or self.cluster.cni_ready)

    def _schedule_pending(self) -> None:
        """The scheduler: a pod nobody could take before gets a node once one fits (a node joined, a cordon lifted)."""
        for pod in self._pods(None):
            if pod["spec"].get("nodeName"):
                continue
            nodes = self._eligible(pod["spec"])
            if nodes:
                meta = pod["metadata"]
                self.store.merge_patch(
                    self._rt("v1", "Pod"),
                    meta["namespace"],
                    meta["name"],
                    {"spec": {"nodeName": min(nodes)}},
                    "kube-scheduler",
                )
                self._ready_at[(meta["namespace"], meta["name"])] = self.clock() + self.start_seconds

    def _sync_pod_status(self) -> None:
        for pod in self._pods(None):
            ready = self._ready(pod)
            old = pod.get("status") or {}
            was = next((c["status"] == "True" for c in old.get("conditions", []) if c["type"] == "Ready"), None)
            if was == ready:
                continue
            phase = "Running" if pod["spec"].get("nodeName") else "Pending"
            condition = {"type": "Ready", "status": str(ready), "lastTransitionTime": now()}
            status = {"phase": phase, "conditions": [condition]}
            self.store.set_status(self._rt("v1", "Pod"), pod["metadata"]["namespace"], pod["metadata"]["name"], status)

    # --- kubelets ------------------------------------------------------------------------------
    def set_kubelets(self, up: set[str]) -> None:
        """The lab says which nodes' kubelets run; a node coming back restarts its pods (Ready after a delay)."""
        for node in self.store.list(self._rt("v1", "Node"), None):
            name = node["metadata"]["name"]
            down = name not in up
            if down == (name in self.kubelets_down):
                continue
            if down:
                self.kubelets_down.add(name)
            else:
                self.kubelets_down.discard(name)
                for pod in self._pods(None):
                    if pod["spec"].get("nodeName") == name:
                        self._ready_at[(pod["metadata"]["namespace"], pod["metadata"]["name"])] = (
                            self.clock() + self.start_seconds
                        )
            status = node.get("status") or {}
            ready = not down and self.cluster.cni_ready
            cond = {
                "type": "Ready",
                "status": str(ready),
                "lastTransitionTime": now(),
                "reason": "KubeletReady" if ready else "NodeStatusUnknown",
                "message": "kubelet is posting ready status" if ready else "Kubelet stopped posting node status.",
            }
            self.store.set_status(self._rt("v1", "Node"), None, name, {**status, "conditions": [cond]})

    # --- disruption budgets and evictions --------------------------------------------------------
    def _budget_status(self, pdb: dict[str, Any]) -> dict[str, Any]:
        spec, namespace = pdb.get("spec") or {}, pdb["metadata"]["namespace"]
        selector = spec.get("selector") or {}
        pods = [p for p in self._pods(namespace) if _selects(selector, p["metadata"].get("labels") or {})]
        expected = self._expected(pods)
        healthy = sum(1 for p in pods if self._ready(p))
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
            owner = _owner(pod)
            if owner and owner["kind"] == "ReplicaSet":
                rs = self.store.find(self._rt("apps/v1", "ReplicaSet"), pod["metadata"]["namespace"], owner["name"])
                owners[owner["uid"]] = int(((rs or {}).get("spec") or {}).get("replicas", 1))
            else:
                bare += 1
        return sum(owners.values()) + bare

    def _sync_budgets(self) -> None:
        rt = self._rt("policy/v1", "PodDisruptionBudget")
        for pdb in self.store.list(rt, None):
            self.store.set_status(rt, pdb["metadata"]["namespace"], pdb["metadata"]["name"], self._budget_status(pdb))

    def evict(self, namespace: str, name: str) -> dict[str, Any]:
        pod_type = self._rt("v1", "Pod")
        pod = self.store.get(pod_type, namespace, name)
        phase = (pod.get("status") or {}).get("phase", "Pending")
        if phase in ("Succeeded", "Failed", "Pending"):  # canIgnorePDB: nothing running to protect
            return self._evicted(pod)
        labels = pod["metadata"].get("labels") or {}
        budgets = [
            b
            for b in self.store.list(self._rt("policy/v1", "PodDisruptionBudget"), namespace)
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
            unhealthy_pod_may_go = not self._ready(pod) and healthy_budget  # unhealthyPodEvictionPolicy IfHealthyBudget
            if status["disruptionsAllowed"] == 0 and not unhealthy_pod_may_go:
                raise errors.ApiStatusError(
                    429,
                    "TooManyRequests",
                    "Cannot evict pod as it would violate the pod's disruption budget.",
                    {"causes": [{"reason": "DisruptionBudget", "message": _denied(budgets[0], status)}]},
                )
        return self._evicted(pod)

    def _evicted(self, pod: dict[str, Any]) -> dict[str, Any]:
        self._delete_pod(pod)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
