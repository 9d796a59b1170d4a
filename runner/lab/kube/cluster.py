"""Nodes and workloads: which pods could run where, and the status controllers would report.

The twin has no kubelet or scheduler; instead a pod template "runs" when some node matches its
nodeSelector, every NoSchedule/NoExecute taint on that node is tolerated, and it either uses the host
network or a CNI is ready. That is exactly what decides the bootstrap order on a real Talos cluster:
nodes carry `node.kubernetes.io/not-ready` until Cilium runs, so only host-network pods that tolerate it
(the patched Flux controllers, Cilium itself, kube-vip) start first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from . import pod_network, pod_security, release
from .catalog import Catalog
from .controller import Controller
from .store import Store, now

NOT_READY_TAINTS = [
    {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
]
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
# The release a Node reports before the lab says which Talos it runs (a Kubernetes twin used on its own)
DEFAULT_TALOS = "v1.11.2"


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        op = t.get("operator", "Equal")
        if op == "Exists" and not t.get("key"):
            return True
        if t.get("key") == taint.get("key") and (op == "Exists" or t.get("value", "") == taint.get("value", "")):
            return True
    return False


class ClusterSim(Controller):
    def __init__(self, store: Store, catalog: Catalog, kubelet_version: str, events: list[str]) -> None:
        super().__init__(store, catalog, events)
        self.kubelet_version = kubelet_version
        self.kubelet_versions: dict[str, str] = {}  # node -> the version its kubelet reports
        # node -> the Talos release it runs, which its kubelet reports as osImage (os-release PRETTY_NAME)
        self.talos_versions: dict[str, str] = {}
        self.cni_ready = False
        self.pod_security: dict[str, Any] | None = None  # the PodSecurity admission plugin's configuration
        self.kube_proxy = False  # Talos `cluster.proxy.disabled`: Cilium replaces kube-proxy here
        self.system_uuids: dict[str, str] = {}  # node -> the SMBIOS UUID of the machine its kubelet runs on
        # why a pod template's volumes keep its pods from starting (volumes.VolumeSim), None when they do not
        self.volume_problem: Callable[[str, dict[str, Any]], str | None] = lambda _ns, _pod: None
        self.kubeprism_port: int | None = 7445  # Talos `machine.features.kubePrism`

    @property
    def services_route(self) -> bool:
        """ClusterIPs route once something programs them: kube-proxy, or Cilium's replacement of it."""
        return self.kube_proxy or self.cni_ready

    @property
    def cluster_dns_answers(self) -> bool:
        """CoreDNS (a Talos bootstrap manifest) is a pod-network Deployment behind the kube-dns ClusterIP: it
        answers once the CNI runs, Service IPs route and one of its replicas is ready."""
        if not (self.cni_ready and self.services_route):
            return False
        coredns = self.store.find(self._rt("apps/v1", "Deployment"), "kube-system", "coredns")
        return bool(coredns and ((coredns.get("status") or {}).get("readyReplicas") or 0) > 0)

    def pod_problem(self, namespace: str, pod: dict[str, Any], owner: str = "") -> tuple[str, str] | None:
        """(reason, message) why pods of this template never become Ready, or None."""
        ns_rt = self._rt("v1", "Namespace")
        ns = self.store.find(ns_rt, None, namespace)
        labels = ((ns or {}).get("metadata") or {}).get("labels") or {}
        refused = pod_security.forbidden(
            namespace, labels, self.pod_security, pod, release.minor_number(self.store.codec.minor)
        )
        if refused:
            return "FailedCreate", f'Error creating: pods "{owner}-" is forbidden: {refused}'
        unreachable = pod_network.api_unreachable(pod, self.services_route, self.kubeprism_port)
        if unreachable:
            return "CrashLoopBackOff", unreachable
        return None

    # nodes ---------------------------------------------------------------------------------------
    def add_node(
        self,
        name: str,
        ip: str,
        role: str = "worker",
        extra_labels: dict[str, str] | None = None,
        system_uuid: str | None = None,
    ) -> dict[str, Any]:
        """A kubelet registers its node (its SMBIOS product UUID as systemUUID); `extra_labels` are the machine
        config's nodeLabels, which Talos puts on the Node through the API (NodeApplyController)."""
        if system_uuid:
            self.system_uuids[name] = system_uuid
        labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
        labels.update(extra_labels or {})
        taints = [] if self.cni_ready else list(NOT_READY_TAINTS)
        if role == "controlplane":
            labels["node-role.kubernetes.io/control-plane"] = ""
            taints.append(CONTROL_PLANE_TAINT)
        rt = self._rt("v1", "Node")
        existing = self.store.find(rt, None, name)
        if existing is None:
            self.store.create(
                rt,
                None,
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {"name": name, "labels": labels},
                    "spec": {"taints": taints},
                },
                "kubelet",
            )
        elif extra_labels and any(existing["metadata"].get("labels", {}).get(k) != v for k, v in extra_labels.items()):
            self.store.merge_patch(rt, None, name, {"metadata": {"labels": dict(extra_labels)}}, "talos")
        self.store.set_status(rt, None, name, self._node_status(name, ip, self.cni_ready, existing))
        return self.store.get(rt, None, name)

    def _node_status(self, name: str, ip: str, ready: bool, existing: dict[str, Any] | None) -> dict[str, Any]:
        old = {c["type"]: c for c in ((existing or {}).get("status") or {}).get("conditions", [])}
        if ready:
            cond = {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
            }
        else:
            cond = {
                "type": "Ready",
                "status": "False",
                "reason": "KubeletNotReady",
                "message": "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                "message:Network plugin returns error: cni plugin not initialized",
            }
        prev = old.get("Ready")
        cond["lastTransitionTime"] = prev["lastTransitionTime"] if prev and prev["status"] == cond["status"] else now()
        return {
            "conditions": [cond],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": _stable_id(name, "boot"),
                "containerRuntimeVersion": "containerd://2.0.0",
                "kernelVersion": "6.12.48-talos",
                "kubeProxyVersion": "",
                "kubeletVersion": self.kubelet_versions.get(name, self.kubelet_version),
                "machineID": _stable_id(name, "machine").replace("-", ""),
                "operatingSystem": "linux",
                "osImage": f"Talos ({self.talos_versions.get(name, DEFAULT_TALOS)})",
                "systemUUID": self.system_uuids.get(name) or _stable_id(name, "system"),
            },
        }

    def set_talos_version(self, name: str, version: str) -> bool:
        if self.talos_versions.get(name, DEFAULT_TALOS) == version:
            return False
        self.talos_versions[name] = version
        return self._refresh_status(name)

    def _refresh_status(self, name: str) -> bool:
        rt = self._rt("v1", "Node")
        node = self.store.find(rt, None, name)
        if node is None:
            return True
        ip = next((a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"), "")
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])
        return self.store.set_status(rt, None, name, self._node_status(name, ip, ready, node))

    def set_kubelet_version(self, name: str, version: str) -> bool:
        if self.kubelet_versions.get(name, self.kubelet_version) == version:
            return False
        self.kubelet_versions[name] = version
        return self._refresh_status(name)

    def set_cni_ready(self) -> None:
        if self.cni_ready:
            return
        self.cni_ready = True
        rt = self._rt("v1", "Node")
        for node in self.store.list(rt, None):
            name = node["metadata"]["name"]
            taints = [
                t for t in node.get("spec", {}).get("taints", []) if t.get("key") != "node.kubernetes.io/not-ready"
            ]
            self.store.merge_patch(rt, None, name, {"spec": {"taints": taints or None}}, "node-lifecycle-controller")
            ip = next(
                (a["address"] for a in node.get("status", {}).get("addresses", []) if a["type"] == "InternalIP"), ""
            )
            self.store.set_status(rt, None, name, self._node_status(name, ip, True, node))
            self.events.append(f"Node/{name} Ready")

    # workloads -----------------------------------------------------------------------------------
    def nodes_for(self, pod_spec: dict[str, Any], need_network: bool = True) -> int:
        """How many nodes a pod with this spec could run on."""
        count = 0
        for node in self.store.list(self._rt("v1", "Node"), None):
            labels = node["metadata"].get("labels", {})
            if any(labels.get(k) != v for k, v in (pod_spec.get("nodeSelector") or {}).items()):
                continue
            taints = [
                t for t in node.get("spec", {}).get("taints", []) if t.get("effect") in ("NoSchedule", "NoExecute")
            ]
            if not all(tolerates(pod_spec.get("tolerations") or [], t) for t in taints):
                continue
            if need_network and not (pod_spec.get("hostNetwork") or self.cni_ready):
                continue
            count += 1
        return count

    def update_workloads(self) -> None:
        for kind in ("Deployment", "StatefulSet"):
            rt = self._rt("apps/v1", kind)
            for obj in self.store.list(rt, None):
                meta = obj["metadata"]
                spec = obj.get("spec", {})
                replicas = spec.get("replicas", 1)
                pod = spec.get("template", {}).get("spec", {})
                problem = self.pod_problem(meta["namespace"], pod, meta["name"])
                # a pod mounting a claim that is not bound and attached yet does not start
                volumes = self.volume_problem(meta["namespace"], pod)
                ready = replicas if self.nodes_for(pod) and problem is None and volumes is None else 0
                status: dict[str, Any] = {
                    "observedGeneration": meta["generation"],
                    "replicas": replicas,
                    "readyReplicas": ready,
                    "availableReplicas": ready,
                    "updatedReplicas": ready,
                }
                if kind == "Deployment":
                    available = "True" if ready >= replicas else "False"
                    status["conditions"] = [
                        {
                            "type": "Available",
                            "status": available,
                            "reason": "MinimumReplicasAvailable" if ready else "MinimumReplicasUnavailable",
                        }
                    ]
                    if problem is not None:
                        status["conditions"].append(
                            {"type": "ReplicaFailure", "status": "True", "reason": problem[0], "message": problem[1]}
                        )
                self.store.set_status(rt, meta["namespace"], meta["name"], status)
        rt = self._rt("apps/v1", "DaemonSet")
        for obj in self.store.list(rt, None):
            meta = obj["metadata"]
            pod = obj.get("spec", {}).get("template", {}).get("spec", {})
            desired = self.nodes_for(pod, need_network=False)
            ready = self.nodes_for(pod) if self.pod_problem(meta["namespace"], pod, meta["name"]) is None else 0
            self.store.set_status(
                rt,
                meta["namespace"],
                meta["name"],
                {
                    "observedGeneration": meta["generation"],
                    "desiredNumberScheduled": desired,
                    "currentNumberScheduled": desired,
                    "updatedNumberScheduled": desired,
                    "numberReady": ready,
                    "numberAvailable": ready,
                    "numberMisscheduled": 0,
                },
            )

    def workload_ready(self, obj: dict[str, Any]) -> bool:
        """kstatus' idea of Current for the workload kinds the twin simulates."""
        status = obj.get("status") or {}
        if status.get("observedGeneration") != obj["metadata"].get("generation"):
            return False
        if obj["kind"] == "DaemonSet":
            return bool(status.get("numberReady", 0) >= status.get("desiredNumberScheduled", 0))
        return bool(status.get("readyReplicas", 0) >= obj.get("spec", {}).get("replicas", 1))


def _stable_id(name: str, what: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{what}.{name}.lab"))
