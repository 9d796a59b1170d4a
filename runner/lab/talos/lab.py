"""The set of simulated Talos nodes: registry, power, faults, etcd membership and connection checks."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509

from runner.lab.talos import pki, rpc
from runner.lab.talos.node import Delays, NodeFaults, SimNode

if TYPE_CHECKING:
    from runner.lab.talos.etcd_snapshot import EtcdStore

DEFAULT_VERSION = "v1.11.2"


@dataclass(frozen=True)
class ClientCreds:
    """What the client presents: the CA it trusts and its certificate (None on insecure calls)."""

    ca: x509.Certificate | None = None
    cert: x509.Certificate | None = None

    @property
    def insecure(self) -> bool:
        return self.cert is None


@dataclass(frozen=True)
class EtcdMember:
    id: int
    hostname: str
    ip: str

    @property
    def peer_urls(self) -> list[str]:
        return [f"https://{self.ip}:2380"]

    @property
    def client_urls(self) -> list[str]:
        return [f"https://{self.ip}:2379"]


class TalosLab:
    """All nodes of the lab. Every public method takes the lock: the control server is threaded."""

    def __init__(self, delays: Delays | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.delays = delays or Delays()
        self.clock = clock
        self.lock = threading.RLock()
        self.nodes: dict[str, SimNode] = {}
        self.etcd: dict[str, dict[int, EtcdMember]] = {}  # cluster id -> members
        self.etcd_store: EtcdStore | None = None  # etcd's keyspace, when the lab world provides one

    # --- what the lab (Proxmox twin, tests) tells us -------------------------------------------
    def register(self, ip: str, hostname: str | None = None, version: str = DEFAULT_VERSION) -> SimNode:
        with self.lock:
            if ip not in self.nodes:
                self.nodes[ip] = SimNode(ip=ip, hostname=hostname or "talos-" + ip.replace(".", "-"), version=version)
            return self.nodes[ip]

    def power(self, ip: str, on: bool) -> SimNode:
        with self.lock:
            node = self.register(ip)
            if on:
                node.power_on(self.clock(), self.delays)
            else:
                node.power_off()
            return node

    def set_faults(self, ip: str, faults: NodeFaults) -> None:
        with self.lock:
            self.register(ip).faults = faults

    def advance(self) -> None:
        with self.lock:
            now = self.clock()
            for node in self.nodes.values():
                node.advance(now)
            self._join_etcd()

    # --- etcd ---------------------------------------------------------------------------------
    def members(self, cluster_id: str) -> dict[int, EtcdMember]:
        return self.etcd.setdefault(cluster_id, {})

    def add_member(self, node: SimNode) -> EtcdMember:
        assert node.config is not None
        digest = hashlib.sha256(f"{node.config.cluster_id}/{node.ip}/{node.boot_id}".encode()).digest()
        member = EtcdMember(id=int.from_bytes(digest[:8], "big"), hostname=node.hostname, ip=node.ip)
        self.members(node.config.cluster_id)[member.id] = member
        node.etcd_data = True
        return member

    def member_of(self, node: SimNode) -> EtcdMember | None:
        if node.config is None:
            return None
        return next((m for m in self.members(node.config.cluster_id).values() if m.ip == node.ip), None)

    def _join_etcd(self) -> None:
        # A running controller joins once its cluster is bootstrapped (Talos' etcd join loop).
        for node in self.nodes.values():
            if node.phase != "running" or not node.is_controlplane or node.etcd_data or node.etcd_stopped:
                continue
            assert node.config is not None
            if self.members(node.config.cluster_id):
                self.add_member(node)

    # --- connections --------------------------------------------------------------------------
    def connect(self, ip: str, creds: ClientCreds) -> SimNode:
        """The TLS dial to a node's API port; raises TransportError like grpc-go reports it."""
        node = self.nodes.get(ip)
        if node is None or node.phase == "off":
            raise rpc.no_route(ip)
        if node.phase in ("booting", "installing", "rebooting"):
            raise rpc.connection_refused(ip)
        if node.phase == "maintenance":
            if not creds.insecure:
                raise rpc.unknown_authority()  # maintenance serves a self-signed certificate
            return node
        if creds.insecure:
            raise rpc.certificate_required()
        assert node.config is not None and creds.cert is not None
        os_ca = node.config.os_ca
        if os_ca is None or creds.ca is None or creds.ca != os_ca:
            raise rpc.unknown_authority()
        if not pki.signed_by(creds.cert, os_ca):
            raise rpc.bad_certificate()
        return node
