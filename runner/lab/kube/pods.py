"""Pods, ReplicaSets and DaemonSets, scheduled onto nodes: enough for a node drain to mean something.

What the real control plane does and the twin imitates (Kubernetes v1.32):
- the ReplicaSet controller keeps `replicas` pods per Deployment, re-creating an evicted pod at once; the
  scheduler places it on a node that is schedulable (`spec.unschedulable` unset, the
  `node.kubernetes.io/unschedulable` taint's meaning), whose taints it tolerates, spreading replicas;
- the DaemonSet controller puts one pod on every matching node and adds the unschedulable toleration
  itself, so a cordon never moves DaemonSet pods (kubectl drain skips them for that reason);
- a new pod is Ready only some time after it starts, and a pod on a node whose kubelet is gone is not Ready.

PodDisruptionBudgets and the Eviction API are disruption.py's.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from .catalog import Catalog, ResourceType
from .cluster import ClusterSim, tolerates
from .store import Store, now

UNSCHEDULABLE = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


def owner_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    refs = obj["metadata"].get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), None)


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

    def rt(self, api_version: str, kind: str) -> ResourceType:
        rt = self.catalog.by_kind(api_version, kind)
        assert rt is not None
        return rt

    # --- controllers ---------------------------------------------------------------------------
    def sync(self) -> None:
        for deployment in self.store.list(self.rt("apps/v1", "Deployment"), None):
            self._sync_replicaset(deployment)
        self._sync_daemonsets()
        self._schedule_pending()
        self._sync_pod_status()

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
        rs_type = self.rt("apps/v1", "ReplicaSet")
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
            for p in self.pods(namespace)
            if (o := owner_of(p))
            and o["kind"] == "ReplicaSet"
            and o["name"].startswith(f"{meta['name']}-")
            and o["name"] != name
        ]
        for pod in old:  # a new template replaces the old ReplicaSet's pods
            self.delete_pod(pod)
        for _ in range(int(spec.get("replicas", 1)) - len(pods)):
            self._create_pod(replicaset, template.get("spec") or {}, labels)

    def _sync_daemonsets(self) -> None:
        for ds in self.store.list(self.rt("apps/v1", "DaemonSet"), None):
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
        for node in self.store.list(self.rt("v1", "Node"), None):
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
            for pod in self.pods(None):
                where = pod["spec"].get("nodeName")
                if where in counts:
                    counts[where] += 1000 if (owner_of(pod) or {}).get("uid") == owner["metadata"]["uid"] else 1
            node = min(counts, key=lambda n: (counts[n], n)) if counts else None
        name = f"{owner['metadata']['name']}-{uuid.uuid4().hex[:5]}"
        spec = {**pod_spec, **({"nodeName": node} if node else {})}
        self.store.create(
            self.rt("v1", "Pod"),
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

    def pods(self, namespace: str | None) -> list[dict[str, Any]]:
        return self.store.list(self.rt("v1", "Pod"), namespace)

    def _owned_pods(self, namespace: str, kind: str, name: str) -> list[dict[str, Any]]:
        return [p for p in self.pods(namespace) if (o := owner_of(p)) and (o["kind"], o["name"]) == (kind, name)]

    def delete_pod(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        self.store.delete(self.rt("v1", "Pod"), meta["namespace"], meta["name"])
        self._ready_at.pop((meta["namespace"], meta["name"]), None)

    def ready(self, pod: dict[str, Any]) -> bool:
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
        for pod in self.pods(None):
            if pod["spec"].get("nodeName"):
                continue
            nodes = self._eligible(pod["spec"])
            if nodes:
                meta = pod["metadata"]
                self.store.merge_patch(
                    self.rt("v1", "Pod"),
                    meta["namespace"],
                    meta["name"],
                    {"spec": {"nodeName": min(nodes)}},
                    "kube-scheduler",
                )
                self._ready_at[(meta["namespace"], meta["name"])] = self.clock() + self.start_seconds

    def _sync_pod_status(self) -> None:
        for pod in self.pods(None):
            ready = self.ready(pod)
            old = pod.get("status") or {}
            was = next((c["status"] == "True" for c in old.get("conditions", []) if c["type"] == "Ready"), None)
            if was == ready:
                continue
            phase = "Running" if pod["spec"].get("nodeName") else "Pending"
            condition = {"type": "Ready", "status": str(ready), "lastTransitionTime": now()}
            status = {"phase": phase, "conditions": [condition]}
            self.store.set_status(self.rt("v1", "Pod"), pod["metadata"]["namespace"], pod["metadata"]["name"], status)

    # --- kubelets ------------------------------------------------------------------------------
    def set_kubelets(self, up: set[str]) -> None:
        """The lab says which nodes' kubelets run; a node coming back restarts its pods (Ready after a delay)."""
        for node in self.store.list(self.rt("v1", "Node"), None):
            name = node["metadata"]["name"]
            down = name not in up
            if down == (name in self.kubelets_down):
                continue
            if down:
                self.kubelets_down.add(name)
            else:
                self.kubelets_down.discard(name)
                for pod in self.pods(None):
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
            self.store.set_status(self.rt("v1", "Node"), None, name, {**status, "conditions": [cond]})
