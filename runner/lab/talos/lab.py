"""The set of simulated Talos nodes: registry, power, faults, etcd membership and connection checks."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509

from runner.lab.talos import addresses, pki, rpc, tailscale
from runner.lab.talos.node import Delays, NodeFaults, SimNode
from runner.lab.talos.resources import CosiState

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
    ip: str  # the node it runs on
    advertised: tuple[str, ...]  # the addresses its peer and client URLs name (Talos' etcd spec)

    @property
    def peer_urls(self) -> list[str]:
        return [f"https://{_host(a)}:2380" for a in self.advertised]

    @property
    def client_urls(self) -> list[str]:
        return [f"https://{_host(a)}:2379" for a in self.advertised]


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


# etcd refuses a member update naming a peer URL another member has (api/v3rpc/rpctypes ErrGRPCPeerURLExist),
# and Talos' AdvertisedPeerController reports it and tries again (controllers/etcd/advertised_peer.go).
PEER_URL_EXISTS = "error updating advertised peers: error updating member: etcdserver: Peer URLs already exists"


class TalosLab:
    """All nodes of the lab. Every public method takes the lock: the control server is threaded."""

    def __init__(self, delays: Delays | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.delays = delays or Delays()
        self.clock = clock
        self.lock = threading.RLock()
        self.nodes: dict[str, SimNode] = {}
        self.etcd: dict[str, dict[int, EtcdMember]] = {}  # cluster id -> members
        self.learners: set[int] = set()  # joined, not yet promoted to voting members
        self.quorum_losses: list[tuple[str, float]] = []  # (cluster id, when): every time quorum was lost
        self._had_quorum: dict[str, bool] = {}
        # Whether the registry behind an installer image serves it (the lab world asks the factory twin).
        self.installer_available: Callable[[str], bool] = lambda image: True
        # Whether the discovery service (discovery.talos.dev) is reachable: the lab has no such service.
        self.discovery_service = False
        self.etcd_store: EtcdStore | None = None  # etcd's keyspace, when the lab world provides one
        # The login server the tailscale extension registers with; None: not modelled (the lab has none).
        self.tailnet: tailscale.Tailnet | None = None
        # The system extensions an installer image carries (the lab world asks the factory twin).
        self.extensions_of: Callable[[str], frozenset[str]] = lambda image: frozenset()
        self._services_started: dict[str, str] = {}  # node ip -> the boot id its extension services started in
        self.peer_update_errors: dict[str, str] = {}  # node ip -> why its member's peer URLs could not follow
        self.bootstrap_calls: list[str] = []  # every Bootstrap call a node's API received, in order (its ip)
        # every API call the nodes received, in order: (method, endpoint ip, dry run); what a test counts writes by
        self.rpc_log: list[tuple[str, str, bool]] = []
        self.cosi = CosiState()  # what `talosctl get` reports of each boot (creation times, versions)

    # --- what the lab (Proxmox twin, tests) tells us -------------------------------------------
    def register(self, ip: str, hostname: str | None = None, version: str | None = None) -> SimNode:
        with self.lock:
            node = self.nodes.get(ip)
            if node is None:
                name = hostname or "talos-" + ip.replace(".", "-")
                node = self.nodes[ip] = SimNode(ip=ip, hostname=name, version=version or DEFAULT_VERSION)
            elif version is not None and node.config is None and not node.versions_run:
                # A placeholder (a fault set before the machine first booted) runs what its image boots.
                node.version = version
            return node

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
                node.advance(now, self.delays.etcd_start)
                self._start_extension_services(node)
            self._start_bootstrapped_etcd(now)
            self._join_etcd()
            self._promote_and_watch_quorum(now)
            self._update_peer_urls()

    def _start_extension_services(self, node: SimNode) -> None:
        """Extension services start once per boot, from the image's extensions and the config's settings."""
        if node.phase != "running" or node.config is None or self._services_started.get(node.ip) == node.boot_id:
            return
        self._services_started[node.ip] = node.boot_id
        env = tailscale.environment(node.config.documents)
        if (
            self.tailnet is not None
            and env is not None
            and tailscale.EXTENSION in self.extensions_of(node.installer_image)
        ):
            tailscale.start(self.tailnet, node.tailscale, node.hostname, env)

    # --- addresses ----------------------------------------------------------------------------
    def addresses(self, node: SimNode) -> list[addresses.Address]:
        """What is on the node's links: its own address (when a link carries it) and what others put there."""
        return addresses.current([node.ip] if node.has_address else [], node.held)

    def advertised(self, node: SimNode) -> tuple[str, ...]:
        """The addresses etcd advertises on this node (none: Talos' etcd spec waits, etcd does not start)."""
        assert node.config is not None
        return tuple(str(a) for a in addresses.etcd_advertised(node.config.documents, self.addresses(node)))

    def kubelet_node_ip(self, node: SimNode) -> str | None:
        """The kubelet's IPv4 node IP (Talos' NodeIP resource), None when no address qualifies."""
        assert node.config is not None
        ips = addresses.kubelet_node_ips(node.config.documents, self.addresses(node))
        return next((str(ip) for ip in ips if ip.version == 4), None)

    # --- etcd ---------------------------------------------------------------------------------
    def members(self, cluster_id: str) -> dict[int, EtcdMember]:
        return self.etcd.setdefault(cluster_id, {})

    def add_member(self, node: SimNode) -> EtcdMember | None:
        assert node.config is not None
        advertised = self.advertised(node)
        if not advertised:
            return None
        digest = hashlib.sha256(f"{node.config.cluster_id}/{node.ip}/{node.boot_id}".encode()).digest()
        member = EtcdMember(int.from_bytes(digest[:8], "big"), node.hostname, node.ip, advertised)
        self.members(node.config.cluster_id)[member.id] = member
        node.etcd_data = True
        return member

    def _update_peer_urls(self) -> None:
        """A healthy member's peer URLs follow the node's advertised addresses (Talos MemberUpdate)."""
        for node in self.nodes.values():
            member = self.member_of(node)
            if member is None or not self.etcd_healthy(node):
                continue
            assert node.config is not None
            advertised = self.advertised(node)
            if not advertised or advertised == member.advertised:
                continue
            members = self.members(node.config.cluster_id)
            taken = {url for other in members.values() if other.id != member.id for url in other.peer_urls}
            wanted = dataclasses.replace(member, advertised=advertised)
            if taken & set(wanted.peer_urls):
                self.peer_update_errors[node.ip] = PEER_URL_EXISTS
                continue
            members[member.id] = wanted
            self.peer_update_errors.pop(node.ip, None)

    def member_of(self, node: SimNode) -> EtcdMember | None:
        if node.config is None:
            return None
        return next((m for m in self.members(node.config.cluster_id).values() if m.ip == node.ip), None)

    def start_bootstrap(self, node: SimNode) -> None:
        """machined's BootstrapEtcd: etcd restarts in bootstrap mode; it runs (data directory written, the
        member listed) only after its pre-start, and serves `etcd_start` after that."""
        node.etcd_bootstrap_at = self.clock() + self.delays.etcd_bootstrap

    def _start_bootstrapped_etcd(self, now: float) -> None:
        for node in self.nodes.values():
            at = node.etcd_bootstrap_at
            if at is not None and now >= at and node.phase == "running":
                node.etcd_bootstrap_at = None
                self.add_member(node)
                node.etcd_ready_at = at + self.delays.etcd_start

    def _join_etcd(self) -> None:
        # A running controller joins once some member of its cluster serves (Talos' etcd join loop lists the
        # members through it), as a learner: Talos adds members as learners and promotes them once they
        # caught up (services/etcd.go).
        for node in self.nodes.values():
            if node.phase != "running" or not node.is_controlplane or node.etcd_data or node.etcd_stopped:
                continue
            assert node.config is not None
            if (
                node.etcd_bootstrap_at is None
                and self._serving(node.config.cluster_id)
                and (member := self.add_member(node)) is not None
            ):
                self.learners.add(member.id)

    def _serving(self, cluster_id: str) -> bool:
        members = self.members(cluster_id).values()
        return any((peer := self.nodes.get(m.ip)) is not None and self.etcd_started(peer) for m in members)

    # --- etcd health: what etcd itself decides, with no protection on the runner's behalf ----------
    def etcd_started(self, node: SimNode) -> bool:
        """This node's etcd member runs and has caught up: it serves and counts for quorum."""
        ready = node.etcd_ready_at is None or self.clock() >= node.etcd_ready_at
        return node.phase == "running" and not node.etcd_stopped and self.member_of(node) is not None and ready

    def has_quorum(self, cluster_id: str) -> bool:
        """More than half of the voting members are up (learners do not vote)."""
        voters = [m for m in self.members(cluster_id).values() if m.id not in self.learners]
        up = sum(1 for m in voters if (n := self.nodes.get(m.ip)) is not None and self.etcd_started(n))
        return bool(voters) and up > len(voters) // 2

    def etcd_healthy(self, node: SimNode) -> bool:
        """The etcd service health check: a linearizable read on the local member (ValidateQuorum)."""
        return self.etcd_started(node) and node.config is not None and self.has_quorum(node.config.cluster_id)

    def api_serving(self, node: SimNode) -> bool:
        """kube-apiserver on a controller answers only while its local etcd serves with quorum."""
        return node.is_controlplane and self.etcd_healthy(node)

    def _promote_and_watch_quorum(self, now: float) -> None:
        for node in self.nodes.values():
            member = self.member_of(node)
            if member is not None and member.id in self.learners and self.etcd_started(node):
                self.learners.discard(member.id)
        for cluster_id, members in self.etcd.items():
            quorum = self.has_quorum(cluster_id) if members else False
            if self._had_quorum.get(cluster_id) and not quorum:
                self.quorum_losses.append((cluster_id, now))
            self._had_quorum[cluster_id] = quorum

    def discovered(self, node: SimNode) -> list[SimNode]:
        """Cluster discovery's members for `node`: the running machines of its cluster (service registry)."""
        assert node.config is not None
        cluster_id = node.config.cluster_id
        return [
            peer
            for peer in sorted(self.nodes.values(), key=lambda n: n.ip)
            if peer.phase == "running" and peer.config is not None and peer.config.cluster_id == cluster_id
        ]

    # --- connections --------------------------------------------------------------------------
    def connect(self, ip: str, creds: ClientCreds) -> SimNode:
        """The TLS dial to a node's API port; raises TransportError like grpc-go reports it."""
        node = self.nodes.get(ip)
        if node is None or node.phase == "off" or not node.has_address:
            raise rpc.no_route(ip)  # nothing answers at an address no link carries
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
