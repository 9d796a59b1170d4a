"""The Kubernetes API twin: store + catalog + simulated nodes, workloads, Flux and Helm."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .cert_manager import CertManagerSim
from .cluster import ClusterSim
from .csi_proxmox import CsiProxmoxClient
from .disruption import DisruptionSim
from .flux_sim import FluxSim
from .gateway_api import GatewayApiSim
from .gitsource import GitSource
from .helm_sim import HelmSim
from .kube_vip_args import kube_vip_has_mask
from .lb_ipam import LbIpam
from .notify_sim import NotificationSim
from .pods import PodSim
from .store import Store
from .volumes import VolumeSim

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass
class TwinOptions:
    kubernetes_version: str = "v1.32.1"
    git_repos: Mapping[str, Path] = field(default_factory=dict)  # GitRepository URL -> bare repo
    default_git_repo: Path | None = None  # used for any URL not in git_repos
    tokens: frozenset[str] = frozenset()  # accepted bearer tokens (besides client certificates)
    pod_start_seconds: float = 1.0  # how long a new pod takes to pass its readiness probe
    # The API server's PodSecurity admission configuration (on Talos: from the machine config's
    # cluster.apiServer.admissionControl); None is upstream's default, privileged everywhere.
    pod_security: dict[str, Any] | None = None
    kube_proxy: bool = False  # Talos cluster.proxy.disabled is what the runner renders
    # Where the CSI controller's Proxmox URLs really answer ("https://atlas:8006" -> the twin), and its CA.
    proxmox_endpoints: Mapping[str, str] = field(default_factory=dict)
    proxmox_ca_bundle: str | None = None


class KubeTwin:
    def __init__(self, options: TwinOptions | None = None) -> None:
        self.options = options or TwinOptions()
        self.catalog = Catalog()
        self.store = Store(self.catalog, self.options.kubernetes_version)
        self.events: list[str] = []  # readiness transitions in the order they happened
        self.requests: list[str] = []  # "METHOD /path" of every API request, as an audit log would list them
        self.controller_errors: list[str] = []  # the latest failures of the simulated controllers
        self.cluster = ClusterSim(self.store, self.catalog, self.options.kubernetes_version, self.events)
        self.git = GitSource(self.options.git_repos, self.options.default_git_repo)
        self.flux = FluxSim(self.store, self.catalog, self.cluster, self.git, self.events)
        self.helm = HelmSim(self.store, self.catalog, self.cluster, self.events)
        self.pods = PodSim(self.store, self.catalog, self.cluster, self.options.pod_start_seconds)
        self.disruption = DisruptionSim(self.pods)
        self.helm.unresolvable = self.flux.unresolvable
        self.notifications = NotificationSim(self.store, self.catalog, self.cluster, self.events)
        self.flux.notify = self.helm.notify = self.notifications.status_changed
        self.lb = LbIpam(self.store, self.catalog, self.events)
        self.cert_manager = CertManagerSim(self.store, self.catalog, self.events)
        self.gateway_api = GatewayApiSim(self.store, self.catalog, self.events)
        self.cluster.pod_security = self.options.pod_security
        self.volumes = VolumeSim(self.store, self.catalog, self.events, self.cluster.workload_ready)
        self.volumes.proxmox_client = self._csi_client
        self.cluster.volume_problem = self.volumes.pod_spec_problem
        self.cluster.kube_proxy = self.options.kube_proxy
        self._reconcile_lock = threading.RLock()
        self._last_seen: tuple[int, tuple[str, ...]] | None = None
        self.vip_address: str | None = None
        ns = self.catalog.by_kind("v1", "Namespace")
        assert ns is not None
        for name in SYSTEM_NAMESPACES:
            self.store.create(ns, None, {"metadata": {"name": name}}, "kube-apiserver")

    @property
    def kubernetes_version(self) -> str:
        return self.options.kubernetes_version

    def set_kubernetes_version(self, version: str) -> None:
        """kube-apiserver restarted on another image: /version and the schemas it validates against follow."""
        with self._reconcile_lock:
            self.options.kubernetes_version = version
            self.store.set_kubernetes_version(version)

    @property
    def vip_answers(self) -> bool:
        return self.vip_address is not None

    def add_node(
        self,
        name: str,
        ip: str,
        role: str = "worker",
        labels: dict[str, str] | None = None,
        system_uuid: str | None = None,
    ) -> dict[str, Any]:
        """A kubelet registering: the lab calls this as Talos nodes join."""
        with self._reconcile_lock:
            node = self.cluster.add_node(name, ip, role, labels, system_uuid)
        self.reconcile()
        return node

    def set_kubelets(self, running: set[str]) -> None:
        """Which nodes' kubelets run (the lab follows its Talos nodes): the others go NotReady, their pods too."""
        with self._reconcile_lock:
            self.pods.set_kubelets(running)
        self.reconcile()

    def evict(self, namespace: str, name: str) -> dict[str, Any]:
        with self._reconcile_lock:
            self.reconcile()  # the budget is judged on the cluster as it is now
            result = self.disruption.evict(namespace, name)
        self.reconcile()  # the ReplicaSet replaces the pod at once, as the real controller would
        return result

    def create_missing(self, objects: list[dict[str, Any]], manager: str) -> None:
        """Create each object that does not exist yet; existing ones are left exactly as they are."""
        created = False
        with self._reconcile_lock:
            for obj in objects:
                rt = self.catalog.by_kind(obj["apiVersion"], obj["kind"])
                meta = obj["metadata"]
                namespace = meta.get("namespace") if rt is not None and rt.namespaced else None
                if rt is None or self.store.find(rt, namespace, meta["name"]) is not None:
                    continue
                self.store.create(rt, namespace, obj, manager)
                created = True
        if created:
            self.reconcile()

    def set_talos_version(self, name: str, version: str) -> None:
        """A node that booted another Talos release reports it on its Node (nodeInfo.osImage)."""
        with self._reconcile_lock:
            changed = self.cluster.set_talos_version(name, version)
        if changed:
            self.reconcile()

    def set_kubelet_version(self, name: str, version: str) -> None:
        """A kubelet restarted with another image reports its new version on its Node."""
        with self._reconcile_lock:
            changed = self.cluster.set_kubelet_version(name, version)
        if changed:
            self.reconcile()

    def reconcile(self) -> None:
        """Run the simulated controllers until nothing changes (a fixpoint), when anything moved since last time."""
        with self._reconcile_lock:
            heads = self._git_heads()
            if self._last_seen == (self.store.revision, heads) and not (self.pods.due() or self.volumes.due()):
                return
            for _ in range(50):
                before = self.store.revision
                self.cluster.update_workloads()
                self.flux.reconcile_sources()
                self.flux.reconcile_kustomizations()
                if self.flux.controller_running("helm-controller"):
                    self.helm.reconcile_all()
                self.lb.l2_enabled = self.helm.l2_announcements
                self.gateway_api.started = self.helm.gateway_api_started
                self.gateway_api.reconcile(cilium_running=self.cluster.cni_ready)
                self.lb.reconcile(cilium_running=self.cluster.cni_ready)
                self.cert_manager.reconcile()
                self.cluster.update_workloads()
                self.pods.sync()
                self.volumes.sync()
                self.disruption.sync()  # budgets judged on the pods as they now are
                self._update_vip()
                if self.store.revision == before:
                    break
            self._last_seen = (self.store.revision, self._git_heads())

    def _csi_client(self, cluster: dict[str, Any]) -> CsiProxmoxClient:
        def resolve(url: str) -> str:
            for known, real in self.options.proxmox_endpoints.items():
                if url.startswith(known):
                    return real + url[len(known) :]
            return url

        return CsiProxmoxClient(cluster, resolve, self.options.proxmox_ca_bundle)

    def reconcile_for_api(self) -> None:
        """Reconcile before answering a request. The controllers are not the API server: one failing on what
        it found in the store is recorded (`controller_errors`), and the API goes on answering."""
        try:
            self.reconcile()
        except Exception as e:
            self.controller_errors.append(f"{type(e).__name__}: {e}")
            del self.controller_errors[:-20]

    def _git_heads(self) -> tuple[str, ...]:
        rt = self.catalog.by_kind("source.toolkit.fluxcd.io/v1", "GitRepository")
        if rt is None:
            return ()
        out = []
        for repo in self.store.list(rt, None):
            spec = repo.get("spec", {})
            try:
                tree = self.git.checkout(spec.get("url", ""), (spec.get("ref") or {}).get("branch", "master"))
                out.append(tree.sha)
            except Exception:
                out.append("")
        return tuple(out)

    def _update_vip(self) -> None:
        """kube-vip answering for the VIP = its DaemonSet has a ready pod on a control-plane node, and the pod's
        arguments give the address a mask (kube_vip_args: `vip_subnet` from 1.0 on)."""
        rt = self.catalog.by_kind("apps/v1", "DaemonSet")
        assert rt is not None
        for ds in self.store.list(rt, None):
            containers = ds.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
            for c in containers:
                if "kube-vip" not in c.get("image", ""):
                    continue
                env = {e.get("name"): e.get("value") for e in c.get("env", [])}
                masked = kube_vip_has_mask(c.get("image", ""), env)
                if env.get("cp_enable") == "true" and masked and (ds.get("status") or {}).get("numberReady", 0) > 0:
                    address = env.get("address") or env.get("vip_address")
                    if self.vip_address != address:
                        self.events.append(f"VIP {address} answers")
                    self.vip_address = address
                    return
        self.vip_address = None

    def state(self) -> dict[str, Any]:
        return {
            "vip_answers": self.vip_answers,
            "vip_address": self.vip_address,
            "cni_ready": self.cluster.cni_ready,
            "announced": dict(self.lb.announced),
            "events": list(self.events),
            "revision": self.store.revision,
        }
