"""Desired and observed state: the two inputs of the planner.

Desired state is derived from the spec (pure); observed state is what the drivers report. Both are
plain frozen dataclasses so the planner can be tested without any outside system.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MANAGED_TAG = "managed-by-runner"
SPEC_TAG_PREFIX = "spec-"

TalosStage = Literal["unreachable", "maintenance", "installing", "booting", "running"]


@dataclass(frozen=True)
class ImageSpec:
    """A Talos disk image the Proxmox node must hold before VMs can import it."""

    node: str  # PVE node
    storage: str
    filename: str  # e.g. talos-<schematic12>-v1.11.2-metal-amd64.qcow2
    url: str
    checksum: str | None = None  # sha256 hex, when the factory publishes one
    checksum_algorithm: str = "sha256"

    @property
    def volid(self) -> str:
        # Proxmox names content of type "import" <storage>:import/<file>.
        return f"{self.storage}:import/{self.filename}"


@dataclass(frozen=True)
class VmSpec:
    """Everything the runner decides about one VM; `spec_hash` covers every field below."""

    vmid: int
    name: str
    node: str  # PVE node
    cores: int
    memory: int  # MiB
    disk_gb: int
    mac: str
    bridge: str
    storage: str
    machine: str
    bios: str
    cpu_type: str
    scsihw: str
    onboot: bool
    agent: bool
    image: ImageSpec
    spec_hash: str
    cluster: str
    role: str = "worker"  # carried as a tag so a VM removed from the spec is known to be a controller

    @property
    def tags(self) -> tuple[str, ...]:
        return (MANAGED_TAG, f"cluster-{self.cluster}", f"role-{self.role}", f"{SPEC_TAG_PREFIX}{self.spec_hash}")


@dataclass(frozen=True)
class ObservedVm:
    """One VM as Proxmox reports it (from /cluster/resources, plus its config when fetched)."""

    vmid: int
    name: str
    node: str
    status: str  # "running" | "stopped" | ...
    tags: frozenset[str] = frozenset()
    maxmem: int = 0  # bytes
    maxcpu: int = 0
    maxdisk: int = 0  # bytes
    config: dict[str, str] | None = None  # pending values applied; only fetched when the spec tag differs
    # Options Proxmox keeps for the next start ({option: pending value, "" to delete}); read with the config.
    pending: dict[str, str] | None = None

    @property
    def managed(self) -> bool:
        return MANAGED_TAG in self.tags

    @property
    def spec_hash(self) -> str | None:
        for tag in self.tags:
            if tag.startswith(SPEC_TAG_PREFIX):
                return tag[len(SPEC_TAG_PREFIX) :]
        return None


@dataclass(frozen=True)
class ObservedTalosNode:
    name: str
    ip: str
    stage: TalosStage
    config_hash: str | None = None  # hash of the machine config the node runs (None in maintenance)
    talos_version: str | None = None
    schematic_id: str | None = None
    kubernetes_version: str | None = None
    etcd_member: bool = False
    # The runner has read a running config from it before (recorded): silent now, it crashed or hangs; it is
    # not a new machine waiting for its first config.
    ran_before: bool = False
    config_redacted: list[Any] | None = field(default=None, compare=False)  # for showing what differs


@dataclass(frozen=True)
class ObservedCluster:
    """Cluster-wide facts: bootstrap, Kubernetes API, Flux hand-off, endpoint."""

    bootstrapped: bool = False
    kube_api_ready: bool = False
    flux_version: str | None = None
    flux_recipient: str | None = None  # public half of the key in the installed sops-age Secret (its annotation)
    flux_settings: tuple[tuple[str, str], ...] | None = None  # cluster-settings data; None when absent
    kustomizations_ready: bool = False
    handoff_recorded: bool = False
    vip_answers: bool = False
    endpoint: str | None = None  # the address the runner currently talks to
    cordoned: frozenset[str] = frozenset()  # nodes the runner cordoned and has not uncordoned yet
    adopted: bool = False  # taken over by `runner adopt --apply` (recorded): its nodes change without reboots


@dataclass(frozen=True)
class Observed:
    vms: dict[int, ObservedVm] = field(default_factory=dict)
    images: frozenset[str] | None = None  # volids; None when not looked at (the cheap path)
    talos: dict[str, ObservedTalosNode] = field(default_factory=dict)
    cluster: ObservedCluster = ObservedCluster()
