"""The lab world: every twin on loopback, wired together the way the real pieces are.

- Proxmox VMs power Talos nodes: a VM that starts boots the node its disk image describes (META 0xa).
- Talos nodes that run and are bootstrapped register as Kubernetes nodes in the Kubernetes twin.
- Cluster addresses (controllers' :6443, the VIP) are gates in front of the Kubernetes twin that open
  when that address would answer on a real network.
- A bare git repo with a real post-receive hook, and a forge twin for statuses and PR comments.

It imports nothing of the runner but core: the runner reaches all of it over HTTP and subprocesses.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.lab import control_plane
from runner.lab.boot import boot_identity
from runner.lab.forge import ForgeState, create_forge_app
from runner.lab.gate import Gate
from runner.lab.gitserver import LabGitServer
from runner.lab.imagefactory import FactoryState
from runner.lab.imagefactory import create_app as create_factory_app
from runner.lab.kube import CertificateAuthority, KubeTwin, TwinOptions, etcd_data, pod_security, serve_kube_twin
from runner.lab.kube_vip import hold_vip
from runner.lab.proxmox import Delays as ProxmoxDelays
from runner.lab.proxmox import ProxmoxTwinState, serve_proxmox_twin
from runner.lab.proxmox.host_setup import prepare_csi, prepare_host
from runner.lab.serve import RunningServer, serve_in_thread
from runner.lab.talos import Delays as TalosDelays
from runner.lab.talos import install_talosctl_shim, start_talos_twin
from runner.lab.talos.addresses import talos_vips
from runner.lab.talos.etcd_snapshot import EtcdStore
from runner.lab.talos.kubeprism import kubeprism_endpoints
from runner.lab.talos.machineconfig import image_version
from runner.lab.world_inputs import LabInputs, Pace, loopback_resolver

FORGE_TOKEN = "lab-forge-token"
# the latest patch of each Talos minor the runner supports (siderolabs/talos tags)
TALOSCTL_RELEASES = {"1.11": "v1.11.6", "1.12": "v1.12.11", "1.13": "v1.13.9"}
_FACTORY_INSTALLER = re.compile(r"/(?:[a-z0-9-]+-)?installer(?:-secureboot)?/(?P<id>[0-9a-f]{64}):")


@dataclass
class LabWorld:
    root: Path
    inputs: LabInputs
    pace: Pace = field(default_factory=Pace)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> LabWorld:
        self.root.mkdir(parents=True, exist_ok=True)
        self.factory_state = FactoryState()
        self.factory: RunningServer = serve_in_thread(create_factory_app(self.factory_state))
        p = self.pace
        self.proxmox_state = ProxmoxTwinState(
            node=self.inputs.host.node,
            tokens={self.inputs.host.token_id: self.inputs.proxmox_token_secret},
            delays=ProxmoxDelays(task=p.task, create=p.task * 2, start=p.task, shutdown=p.task, download=p.download),
            resolver=loopback_resolver,
        )
        # the host is prepared as the README says: the runner's token gets exactly the documented role
        prepare_host(self.proxmox_state, self.inputs.host, self.inputs.proxmox_token_secret)
        if self.inputs.csi_token is not None:
            prepare_csi(
                self.proxmox_state, self.inputs.csi_token[0], self.inputs.host.storage, self.inputs.csi_token[1]
            )
        self.proxmox = serve_proxmox_twin(self.proxmox_state, self.root / "proxmox-tls")
        # etcd serves seconds after its node boots (Talos first checks it after 5 s), even at the fast pace:
        # long enough that taking the next controller down without waiting for it loses quorum.
        etcd_start = max(3.0, p.reboot * 3)
        self.talos = start_talos_twin(
            TalosDelays(boot=p.boot, install=p.install, reboot=p.reboot, etcd_start=etcd_start)
        )
        self.talos.lab.installer_available = self._factory_serves
        # the talosctl of the cluster's own Talos release, as its operator installs it (they ship together)
        self.talosctl = install_talosctl_shim(self.root / "bin", self.talos.url, self.inputs.talos_version)
        # one talosctl per Talos minor, as an operator installs them for an upgrade across minors
        self.talosctl_by_minor = {
            minor: install_talosctl_shim(self.root / "bin", self.talos.url, release, f"talosctl-{minor}")
            for minor, release in TALOSCTL_RELEASES.items()
        }
        self.git = LabGitServer(self.root / "git", self.inputs.repo_full_name).create()
        self.kube_twin = KubeTwin(
            TwinOptions(
                kubernetes_version=self.inputs.kubernetes_version,
                git_repos={self.inputs.flux_url: self.git.bare},
                # the PVE URL the cluster's CSI config names answers at the twin (a name on the operator's LAN)
                proxmox_endpoints={f"https://{self.inputs.host.node}:8006": self.proxmox.url.rstrip("/")},
                proxmox_ca_bundle=str(self.proxmox.ca_bundle),
            )
        )
        self.kube = serve_kube_twin(
            self.kube_twin, CertificateAuthority(self.inputs.kube_ca_crt, self.inputs.kube_ca_key)
        )
        store = self.kube_twin.store
        # etcd's data in the lab is the Kubernetes twin's store: snapshots hold it, recovery brings it back
        self.talos.lab.etcd_store = EtcdStore(
            dump=lambda: etcd_data.dump(store),
            load=lambda data: etcd_data.load(store, data),
            clear=lambda: etcd_data.clear(store),
        )
        kube_port = self.kube.server.port
        self.gates = {
            f"{ip}:6443": Gate(("127.0.0.1", kube_port), self._api_up(ip)) for ip in self.inputs.controller_ips
        }
        self.gates[f"{self.inputs.vip}:6443"] = Gate(("127.0.0.1", kube_port), self._vip_up)
        self.forge_state = ForgeState(commit_exists=self.git.has_commit)
        self.forge_state.add_token(FORGE_TOKEN)
        self.forge_state.add_repo(self.inputs.repo_full_name)
        # The forge's merge button merges into the lab's git server, whose push hook then fires.
        self.forge_state.pulls.merge = lambda pull: self.git.merge(
            pull.sha, pull.base, f"Merge pull request #{pull.number} from {pull.head}"
        )
        self.forge = serve_in_thread(create_forge_app(self.forge_state))
        self._powered: dict[int, tuple[str, float]] = {}  # vmid -> (ip, started_at) last seen running
        self._joined: dict[str, str] = {}  # node name -> the node IP its kubelet registered with
        self._labels: dict[str, dict[str, str]] = {}  # node name -> the nodeLabels Talos last applied
        self._wiring = threading.Thread(target=self._wire_forever, name="lab-wiring", daemon=True)
        self._wiring.start()
        return self

    # --- what the runner is pointed at -------------------------------------------------------------
    def target_settings(self) -> dict[str, object]:
        return {
            "proxmox_url": self.proxmox.url,
            "proxmox_ca_bundle": self.proxmox.ca_bundle,
            "image_factory_url": self.factory.url,
            "talosctl_path": str(self.talosctl),
            "talosctl_paths": {minor: str(path) for minor, path in self.talosctl_by_minor.items()},
            "address_map": {addr: gate.address for addr, gate in self.gates.items()},
        }

    # --- wiring --------------------------------------------------------------------------------
    def _factory_serves(self, image: str) -> bool:
        """The factory's registry serves an installer only for a schematic registered with it (plain data)."""
        match = _FACTORY_INSTALLER.search(image)
        if match is None:
            return True  # not a factory image: some other registry the lab does not model
        with self.factory_state.lock:
            return match["id"] in self.factory_state.schematics

    def _api_up(self, ip: str):  # type: ignore[no-untyped-def]
        def check() -> bool:
            lab = self.talos.lab
            with lab.lock:
                node = lab.nodes.get(ip)
                return bool(node and lab.api_serving(node))

        return check

    def _vip_up(self) -> bool:
        # kube-vip moves the VIP to a live controller, but behind it is an API server that needs etcd quorum.
        lab = self.talos.lab
        with lab.lock:
            serving = any(lab.api_serving(n) for n in lab.nodes.values())
        return self._vip_held() and serving

    def _vip_held(self) -> bool:
        """kube-vip's DaemonSet runs, or Talos's own VIP (`vip:` on a controller's interface, Layer2VIPConfig)
        is configured on a controller whose API server serves: Talos elects the VIP's holder through etcd
        ("Virtual (shared) IP", Talos v1.11 docs), so it answers only where etcd does."""
        lab = self.talos.lab
        with lab.lock:
            talos_vip = any(
                n.config is not None
                and n.is_controlplane
                and self.inputs.vip in talos_vips(n.config.documents)
                and lab.api_serving(n)
                for n in lab.nodes.values()
            )
        return self.kube_twin.vip_answers or talos_vip

    def _wire_forever(self) -> None:
        while not self.stopping.wait(0.1):
            try:
                self.wire_once()
            except Exception as exc:  # keep the world turning; a wiring hiccup must not stop the lab
                print(f"lab wiring: {type(exc).__name__}: {exc}")

    def wire_once(self) -> None:
        state = self.proxmox_state
        with state.lock:
            state.tick()
            running = {vmid: (vm, vm.started_at) for vmid, vm in state.vms.items() if vm.status == "running"}
            # Only VMs that just started need their image read (two YAML parses each): the wiring runs every
            # 100 ms under the Proxmox lock, and re-reading every VM's image would starve the API at 50 VMs.
            identities = {
                vmid: boot_identity(vm, state, self.factory_state)
                for vmid, (vm, started) in running.items()
                if self._powered.get(vmid, ("", None))[1] != started
            }
        for vmid, (ip, started) in list(self._powered.items()):
            if vmid not in running or running[vmid][1] != started:
                self.talos.lab.power(ip, False)  # stopped, or rebooted (a new start time)
                del self._powered[vmid]
        for vmid, (_vm, started) in running.items():
            ident = identities.get(vmid)
            if ident is not None and vmid not in self._powered:
                node = self.talos.lab.register(ident.ip, ident.hostname, ident.version)
                with self.talos.lab.lock:
                    if ident.hostname:  # META's hostname wins over a placeholder (a fault injected before first boot)
                        node.hostname = ident.hostname
                    node.links, node.platform_link = ident.links, ident.platform_link
                self.talos.lab.power(ident.ip, True)
                self._powered[vmid] = (ident.ip, started)
        self.talos.lab.advance()
        hold_vip(self.talos.lab, self.inputs.vip, self._vip_held())
        self._join_kubernetes()

    def _join_kubernetes(self) -> None:
        lab = self.talos.lab
        with lab.lock:
            ready = [
                (n.hostname, ip, "controlplane" if n.is_controlplane else "worker", kubeprism_endpoints(lab, n))
                for n in lab.nodes.values()
                if n.phase == "running" and n.config is not None and lab.members(n.config.cluster_id)
                if (ip := lab.kubelet_node_ip(n)) is not None  # no node IP: the kubelet does not start
            ]
            kubelets = {
                n.hostname: image_version(str(kubelet.get("image", "")))
                for n in lab.nodes.values()
                if n.phase == "running" and n.config is not None
                for kubelet in _kubelet_sections(n.config.documents)
            }
            talos_versions = {n.hostname: n.version for n in lab.nodes.values() if n.phase == "running"}
            node_labels = {
                n.hostname: {str(k): str(v) for k, v in labels.items()}
                for n in lab.nodes.values()
                if n.phase == "running" and n.config is not None
                for labels in _node_label_sections(n.config.documents)
            }
            controllers = [
                (n.version, n.config)
                for n in lab.nodes.values()
                if n.phase == "running" and n.config and n.is_controlplane
            ]
            apiserver = controllers[0][1] if controllers else None
            renderings, apiservers = control_plane.of_controllers([(v, c.documents) for v, c in controllers])
        if apiserver is not None and not self._joined:
            self._configure_apiserver(apiserver.documents)
        for name, release in talos_versions.items():  # what the kubelet reports as its OS, from its first status
            self.kube_twin.set_talos_version(name, release)
        for name, ip, role, endpoints in ready:
            # A kubelet registers only through an API server its KubePrism can reach; a new node IP restarts it.
            labels = node_labels.get(name, {})
            if (self._joined.get(name) != ip or self._labels.get(name) != labels) and any(
                self._answers(e) for e in endpoints
            ):
                self.kube_twin.add_node(name, ip, role, labels, self._system_uuid(ip))
                self._joined[name], self._labels[name] = ip, labels
        # A node whose Talos is down (rebooting, upgrading, stopped) has no kubelet: Kubernetes sees it NotReady.
        self.kube_twin.set_kubelets({name for name, _, _, _ in ready})
        control_plane.follow_apiservers(self.kube_twin, apiservers)
        if self._joined:
            control_plane.apply_bootstrap_manifests(self.kube_twin, renderings)
            for name, version in kubelets.items():
                if name in self._joined and version:
                    self.kube_twin.set_kubelet_version(name, version)

    def _system_uuid(self, ip: str) -> str | None:
        """The SMBIOS UUID of the VM behind a node IP (PVE's smbios1 uuid), which its kubelet reports."""
        vmid = next((vmid for vmid, (seen, _) in self._powered.items() if seen == ip), None)
        with self.proxmox_state.lock:
            vm = self.proxmox_state.vms.get(vmid) if vmid is not None else None
            smbios = vm.config.get("smbios1", "") if vm is not None else ""
        return next((p[5:] for p in smbios.split(",") if p.startswith("uuid=")), None)

    def _configure_apiserver(self, documents: list[dict[str, object]]) -> None:
        """The API server runs with what the controller's machine config says: its PodSecurity admission
        configuration (Talos renders the apiserver's --admission-control-config-file from it) and whether
        kube-proxy runs (cluster.proxy.disabled)."""
        cluster = next((d.get("cluster") for d in documents if isinstance(d.get("cluster"), dict)), None) or {}
        assert isinstance(cluster, dict)
        api_server = cluster.get("apiServer") or {}
        proxy = cluster.get("proxy") or {}
        self.kube_twin.cluster.pod_security = pod_security.pod_security_config(api_server.get("admissionControl"))
        self.kube_twin.cluster.kube_proxy = not proxy.get("disabled", False)

    def _answers(self, endpoint: str) -> bool:
        gate = self.gates.get(endpoint)
        return gate is not None and gate.is_open()

    # --- what the live view shows --------------------------------------------------------------
    def node_view(self, vmid: int, ip: str, name: str) -> tuple[str, str, str]:
        """(VM state, Talos phase, Kubernetes state) of one node, as a person would check them."""
        with self.proxmox_state.lock:
            vm = self.proxmox_state.vms.get(vmid)
            vm_state = f"{vm.status} {vm.effective().get('memory', '?')} MiB" if vm else "absent"
        with self.talos.lab.lock:
            node = self.talos.lab.nodes.get(ip)
            phase = node.phase if node else "-"
        kube = "-" if name not in self._joined else "Ready" if self.kube_twin.cluster.cni_ready else "NotReady"
        return vm_state, phase, kube

    def stop(self) -> None:
        self.stopping.set()
        for gate in self.gates.values():
            gate.stop()
        for server in (self.forge, self.kube.server, self.talos.server, self.proxmox.server, self.factory):
            server.stop()


def _node_label_sections(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        d["machine"]["nodeLabels"] for d in documents if isinstance((d.get("machine") or {}).get("nodeLabels"), dict)
    ]


def _kubelet_sections(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d["machine"]["kubelet"] for d in documents if isinstance((d.get("machine") or {}).get("kubelet"), dict)]
