"""Cordon, list a node's pods, evict through the Eviction API: what a drain needs from the API server.

Evictions go through `pods/<name>/eviction` (policy/v1), never a plain delete, so the API server checks
PodDisruptionBudgets; its 429 answer carries the blocking budget in a `DisruptionBudget` cause, which is
surfaced as `EvictionBlocked` so the drain can wait and, at its deadline, name the budget.
"""

from __future__ import annotations

from typing import Any

from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Node, Pod
from lightkube.types import PatchType

from runner.core.errors import Permanent

from .api import EvictionBlocked, PodInfo
from .errors import describe, translated
from .readiness import node_ready


def _pod_info(pod: dict[str, Any]) -> PodInfo:
    meta, status = pod["metadata"], pod.get("status") or {}
    owner = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
    return PodInfo(
        namespace=str(meta["namespace"]),
        name=str(meta["name"]),
        owner_kind=str(owner["kind"]) if owner else None,
        mirror="kubernetes.io/config.mirror" in (meta.get("annotations") or {}),
        phase=str(status.get("phase", "Pending")),
        terminating=meta.get("deletionTimestamp") is not None,
    )


# Marks a cordon as the runner's own: only such a node is ever uncordoned by the runner (a crash between drain
# and uncordon is healed by the next reconcile), never one a person cordoned by hand (kubectl cordon).
CORDONED_BY_RUNNER = "runner.dev/cordoned"


class NodeDrainOps:
    _client: Client

    def cordon(self, node: str, unschedulable: bool = True) -> bool:
        """Cordon a node as the runner's own, or lift only the runner's own cordon.

        Cordoning returns False when there is no such node; uncordoning returns whether the node is schedulable
        now. A node a person cordoned (no annotation of the runner's) keeps that cordon as theirs: the runner's
        drain does not annotate it, so neither the uncordon after the step nor a later run ever lifts it.
        """
        what = "cordon" if unschedulable else "uncordon"
        with translated(f"{what} node {node}"):
            try:
                found = self._client.get(Node, node)
                ours = (found.metadata.annotations or {}).get(CORDONED_BY_RUNNER) == "true" if found.metadata else False
                if found.spec is not None and found.spec.unschedulable and not ours:
                    return unschedulable  # cordoned by hand: not the runner's to claim or to lift
                if not unschedulable and not ours:
                    return True  # nothing of the runner's to lift: the node is schedulable
                patch = {
                    "metadata": {"annotations": {CORDONED_BY_RUNNER: "true" if unschedulable else None}},
                    "spec": {"unschedulable": True if unschedulable else None},
                }
                self._client.patch(Node, node, patch, patch_type=PatchType.MERGE)
            except ApiError as e:
                if e.status.code == 404:
                    return False
                raise
        return True

    def cordoned_by_runner(self) -> set[str]:
        """Nodes the runner cordoned and has not yet uncordoned (one list call)."""
        with translated("list nodes"):
            nodes = [n.to_dict() for n in self._client.list(Node)]
        return {
            str(n["metadata"]["name"])
            for n in nodes
            if (n["metadata"].get("annotations") or {}).get(CORDONED_BY_RUNNER) == "true"
        }

    def node_is_ready(self, node: str) -> bool | None:
        """The node's Ready condition; None when there is no such node."""
        with translated(f"get node {node}"):
            try:
                obj = self._client.get(Node, node)
            except ApiError as e:
                if e.status.code == 404:
                    return None
                raise
        return node_ready(obj.to_dict())

    def pods_on(self, node: str) -> list[PodInfo]:
        with translated(f"list pods on {node}"):
            pods = self._client.list(Pod, namespace="*", fields={"spec.nodeName": node})
            return [_pod_info(p.to_dict()) for p in pods]

    def evict(self, namespace: str, name: str) -> bool:
        """Ask the API server to evict a pod; False when it is already gone, EvictionBlocked on a PDB's 429."""
        eviction = Pod.Eviction(metadata=ObjectMeta(name=name, namespace=namespace))
        with translated(f"evict pod {namespace}/{name}"):
            try:
                self._client.create(eviction, name, namespace=namespace)
            except ApiError as e:
                if e.status.code == 404:
                    return False
                if e.status.code == 429:
                    causes = (e.status.details.causes if e.status.details else None) or []
                    why = "; ".join(c.message for c in causes if c.message) or describe(e)
                    raise EvictionBlocked(f"evicting {namespace}/{name}: {why}") from None
                if "more than one PodDisruptionBudget" in (e.status.message or ""):
                    # The API server will never evict such a pod (no retry helps): say which one and why.
                    raise Permanent(f"evicting {namespace}/{name}: {e.status.message}") from None
                raise
        return True
