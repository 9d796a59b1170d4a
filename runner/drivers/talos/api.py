"""What the engine needs from Talos, as a Protocol (the talosctl implementation is in driver.py).

Observation reads many nodes per call (`statuses`, `versions`, `schematics`, `config_versions`,
`machine_configs`): one talosctl process each, whatever the node count, and a node that does not answer
is left out without losing the others. Steps act on one node at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from runner.core.secret import Secret
from runner.core.state import TalosStage


@dataclass(frozen=True)
class EtcdMember:
    id: str  # 16 hex digits, as talosctl prints it
    hostname: str
    peer_urls: tuple[str, ...]

    @property
    def ip(self) -> str:
        return self.peer_urls[0].split("://", 1)[-1].rsplit(":", 1)[0].strip("[]") if self.peer_urls else ""


@dataclass(frozen=True)
class EtcdService:
    """The etcd service as machined reports it: STATE (Preparing, Running, ...) and HEALTH (?, OK, Fail)."""

    state: str
    health: str


@dataclass(frozen=True)
class NodeStatus:
    stage: TalosStage
    booted: str | None = None  # when this boot's MachineStatus was created: differs after every reboot


@dataclass(frozen=True)
class NodeConfig:
    version: int  # the MachineConfig resource's version: bumped by every change within one boot
    text: Secret


class TalosApi(Protocol):
    # --- observation: several nodes per call ---------------------------------------------------
    def statuses(self, ips: Sequence[str]) -> dict[str, NodeStatus]:
        """Every ip's stage ("unreachable" when it does not answer); raises Permanent on e.g. an auth failure."""

    def versions(self, ips: Sequence[str]) -> dict[str, str]:
        """Talos version tag of each node that answered."""

    def schematics(self, ips: Sequence[str]) -> dict[str, str | None]:
        """Image Factory schematic id of each node that answered (None: not a factory image)."""

    def config_versions(self, ips: Sequence[str]) -> dict[str, int]:
        """The MachineConfig resource version of each node that answered (the config itself is not read)."""

    def machine_configs(self, ips: Sequence[str]) -> dict[str, NodeConfig]:
        """The machine config of each node that answered."""

    # --- one node ------------------------------------------------------------------------------
    def stage(self, ip: str) -> TalosStage: ...
    def version(self, ip: str) -> str: ...
    def machine_config(self, ip: str) -> Secret: ...
    def apply_config(self, ip: str, config_yaml: Secret | str, insecure: bool, mode: str = "auto") -> str: ...
    def bootstrap(self, ip: str) -> None: ...
    def etcd_members(self, ip: str) -> list[str]: ...
    def etcd_member_details(self, ip: str) -> list[EtcdMember]: ...
    def etcd_healthy(self, ip: str) -> bool: ...
    def etcd_services(self, ips: Sequence[str]) -> dict[str, EtcdService]:
        """The etcd service of each node that answered, in one run (a worker has none)."""

    def etcd_remove_member(self, ip: str, member_id: str) -> None: ...
    def upgrade(self, ip: str, image: str, preserve: bool = False) -> None: ...
    def bootstrap_manifests(self, ip: str) -> list[dict[str, Any]]: ...
    # --- etcd backup and disaster recovery -----------------------------------------------------
    def etcd_snapshot(self, ip: str, dest: Path) -> int: ...
    def reset_ephemeral(self, ip: str) -> None: ...
    def bootstrap_recover(self, ip: str, snapshot: Path) -> None: ...
    def talosconfig_yaml(self, endpoints: Sequence[str], nodes: Sequence[str] = ()) -> Secret: ...


class TalosDryRun(Protocol):
    """Talos's own verdict on a config without applying it (`runner adopt`); kept apart from `TalosApi` so
    scripted drivers of the reconcile need not answer it."""

    def apply_config_dry_run(self, ip: str, config_yaml: Secret) -> str: ...
