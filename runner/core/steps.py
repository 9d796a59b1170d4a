"""Typed plan steps: what the executor can do, each with the reason it exists."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    ENSURE_IMAGE = "ensure_image"
    CREATE_VM = "create_vm"
    UPDATE_VM = "update_vm"
    START_VM = "start_vm"
    REBOOT_VM = "reboot_vm"
    STOP_VM = "stop_vm"
    DELETE_VM = "delete_vm"
    APPLY_CONFIG = "apply_config"
    BOOTSTRAP = "bootstrap"
    WAIT_HEALTHY = "wait_healthy"
    UPGRADE_TALOS = "upgrade_talos"
    ETCD_LEAVE = "etcd_leave"
    UPGRADE_KUBERNETES = "upgrade_kubernetes"  # one component on one node, as `talosctl upgrade-k8s` orders them
    SYNC_MANIFESTS = "sync_manifests"  # the Talos bootstrap manifests, server-side applied (upgrade-k8s' last step)
    DELETE_K8S_NODE = "delete_k8s_node"
    INSTALL_FLUX = "install_flux"
    UPGRADE_FLUX = "upgrade_flux"  # a running Flux to a newer vendored release (stored versions migrated)
    REPLACE_FLUX_KEY = "replace_flux_key"
    APPLY_FLUX_SETTINGS = "apply_flux_settings"  # the cluster-settings ConfigMap the flux/ manifests read
    WAIT_FLUX = "wait_flux"
    RECORD_HANDOFF = "record_handoff"
    SWITCH_ENDPOINT = "switch_endpoint"
    DRAIN_NODE = "drain_node"
    UNCORDON_NODE = "uncordon_node"
    MOVE_ENDPOINT = "move_endpoint"
    ETCD_SNAPSHOT = "etcd_snapshot"
    AWAIT_NODE = "await_node"  # a node that ran before and answers no more: looked at once, reported


class Phase(StrEnum):
    INFRASTRUCTURE = "infrastructure"
    TALOS = "talos"
    BOOTSTRAP = "bootstrap"
    KUBERNETES = "kubernetes"


PHASE_OF: dict[Kind, Phase] = {
    Kind.ENSURE_IMAGE: Phase.INFRASTRUCTURE,
    Kind.CREATE_VM: Phase.INFRASTRUCTURE,
    Kind.UPDATE_VM: Phase.INFRASTRUCTURE,
    Kind.START_VM: Phase.INFRASTRUCTURE,
    Kind.REBOOT_VM: Phase.INFRASTRUCTURE,
    Kind.STOP_VM: Phase.INFRASTRUCTURE,
    Kind.DELETE_VM: Phase.INFRASTRUCTURE,
    Kind.APPLY_CONFIG: Phase.TALOS,
    Kind.UPGRADE_TALOS: Phase.TALOS,
    Kind.ETCD_LEAVE: Phase.TALOS,
    Kind.UPGRADE_KUBERNETES: Phase.TALOS,
    Kind.SYNC_MANIFESTS: Phase.TALOS,
    Kind.ETCD_SNAPSHOT: Phase.TALOS,
    Kind.AWAIT_NODE: Phase.TALOS,
    Kind.BOOTSTRAP: Phase.BOOTSTRAP,
    Kind.WAIT_HEALTHY: Phase.BOOTSTRAP,
    Kind.DELETE_K8S_NODE: Phase.KUBERNETES,
    Kind.INSTALL_FLUX: Phase.KUBERNETES,
    Kind.UPGRADE_FLUX: Phase.KUBERNETES,
    Kind.REPLACE_FLUX_KEY: Phase.KUBERNETES,
    Kind.APPLY_FLUX_SETTINGS: Phase.KUBERNETES,
    Kind.WAIT_FLUX: Phase.KUBERNETES,
    Kind.RECORD_HANDOFF: Phase.KUBERNETES,
    Kind.SWITCH_ENDPOINT: Phase.KUBERNETES,
    Kind.DRAIN_NODE: Phase.KUBERNETES,
    Kind.UNCORDON_NODE: Phase.KUBERNETES,
    Kind.MOVE_ENDPOINT: Phase.KUBERNETES,
}


@dataclass(frozen=True)
class Step:
    """One idempotent action. `params` are JSON-able and never hold secret values."""

    id: str
    kind: Kind
    target: str
    reason: str
    depends_on: tuple[str, ...] = ()
    disruptive: bool = False
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)

    @property
    def phase(self) -> Phase:
        return PHASE_OF[self.kind]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "phase": self.phase.value,
            "target": self.target,
            "reason": self.reason,
            "depends_on": list(self.depends_on),
            "disruptive": self.disruptive,
            "params": self.params,
        }


@dataclass(frozen=True)
class Plan:
    """An ordered DAG of steps (every step after all it depends on) plus what blocks or warns."""

    cluster: str
    steps: tuple[Step, ...] = ()
    conflicts: tuple[str, ...] = ()  # things the runner refuses to do; a plan with conflicts is not applied
    notes: tuple[str, ...] = ()  # drift reported but not corrected, skipped destroys, ...
    after_merge: tuple[str, ...] = ()  # connection targets a PR changes: used only once merged

    @property
    def empty(self) -> bool:
        return not self.steps

    @property
    def drift(self) -> list[str]:
        """What a plan found changed from outside: drift notes (reported only) and drift steps (to correct)."""
        return [n for n in self.notes if n.startswith("drift")] + [
            s.reason for s in self.steps if s.reason.startswith("drift")
        ]

    @property
    def disruptive(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.disruptive)

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "steps": [s.to_json() for s in self.steps],
            "conflicts": list(self.conflicts),
            "notes": list(self.notes),
            "after_merge": list(self.after_merge),
        }
