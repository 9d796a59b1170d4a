"""What each plan step does against the real systems. Every handler is idempotent: it checks first."""

from __future__ import annotations

import dataclasses
import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner.core.derive import Desired, DesiredNode
from runner.core.flux_settings import cluster_settings
from runner.core.secret import Secret
from runner.core.spec import Cluster
from runner.core.steps import Kind, Step
from runner.core.talos import config_hash, parse_machine_config
from runner.drivers.kube import flux_install
from runner.drivers.talos_schema import validate_config_text
from runner.engine import kubernetes_upgrade
from runner.engine.backups import BackupStore
from runner.engine.clusterstate import ClusterStateStore
from runner.engine.configs import NodeConfig
from runner.engine.drain_steps import DrainSteps
from runner.engine.etcd_snapshots import Controller, take_snapshot
from runner.engine.key_separation import FluxKey
from runner.engine.targets import Connections
from runner.engine.waits import wait_until

if TYPE_CHECKING:  # the Kubernetes driver's libraries load on first use
    from runner.drivers.kube import KubeApi


@dataclass
class StepRunner(DrainSteps):
    cluster: Cluster
    desired: Desired
    conns: Connections
    configs: dict[str, NodeConfig]
    store: ClusterStateStore
    flux_key: Callable[[], FluxKey]  # the cluster's Flux key, checked not to open the machine secrets
    handoff: bool
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event)
    log: Callable[[str], None] = print
    endpoint_configs: dict[str, NodeConfig] = dataclasses.field(default_factory=dict)  # naming the VIP
    age_recipients: tuple[str, ...] = ()  # who can open etcd snapshots (see etcd_snapshots.age_recipients)

    def __call__(self, step: Step) -> str | None:
        handler = getattr(self, f"_{step.kind.value}")
        result: str | None = handler(step)
        return result

    # --- helpers -------------------------------------------------------------------------------
    def _node(self, step: Step) -> DesiredNode:
        return self.desired.node(str(step.params["node_name"]))

    def _wait(self, check: Callable[[], object], what: str, timeout: float | None = None) -> object:
        s = self.conns.settings
        return wait_until(check, timeout=timeout or s.boot_timeout, what=what, poll=s.poll_seconds, cancel=self.cancel)

    def _wait_stage(self, dn: DesiredNode, stages: tuple[str, ...], hint: str = "") -> str:
        return str(
            self._wait(
                lambda: st if (st := self.conns.talos.stage(dn.ip)) in stages else None,
                f"{dn.name} ({dn.ip}) reaching {' or '.join(stages)}{hint}",
            )
        )

    def _address_hint(self) -> str:
        link = self.cluster.network.interface
        # Said for both cases: the handler cannot tell a node that never booted from one that went down.
        return (
            f" (its static address is configured on link {link}; a node whose NIC has another name "
            "never brings the address up; one that answered before has stopped: look at its console)"
        )

    def _wait_node_healthy(self, dn: DesiredNode) -> None:
        """Back to running; a controller also healthy in etcd again, every member listed (quorum intact).

        Talos protects quorum only on `upgrade`; a reboot is not checked, and a rebooted member is listed
        long before it serves. Taking the next controller down before this one's etcd is healthy loses quorum.
        """
        self._wait_stage(dn, ("running",))
        if dn.is_controller:
            want = {c.ip for c in self.desired.controllers}
            self._wait(
                lambda: self.conns.talos.etcd_healthy(dn.ip) and want <= set(self.conns.talos.etcd_members(dn.ip)),
                f"etcd on {dn.name} healthy with all {len(want)} controllers",
            )

    def _kube(self, endpoint: str | None = None) -> KubeApi:
        facts = self.store.get(self.desired.cluster)
        return self.conns.kube(endpoint or facts.endpoint or self.desired.initial_endpoint)

    def _register_schematic(self, dn: DesiredNode) -> None:
        """The factory builds images and installers only for schematics it knows: register before any use."""
        with self.conns.image_factory() as factory:
            factory.ensure_schematic(dn.schematic)

    # --- infrastructure ------------------------------------------------------------------------
    def _ensure_image(self, step: Step) -> str:
        px = self.conns.proxmox
        p = step.params
        if p["volid"] in px.list_images(p["node"], p["storage"]):
            return "already present"
        dn = next(n for n in self.desired.nodes if n.vm.image.filename == p["filename"])
        platform = self.cluster.image_factory.platform
        with self.conns.image_factory() as factory:
            # The factory builds images on demand for schematics it knows: register ours first.
            factory.ensure_schematic(dn.schematic)
            url = factory.image_url(dn.schematic_id, dn.talos_version, platform)
            checksum = factory.image_checksum(dn.schematic_id, dn.talos_version, platform)
        px.download_image(dataclasses.replace(dn.vm.image, url=url, checksum=checksum))
        return f"downloaded {p['filename']}"

    def _create_vm(self, step: Step) -> str:
        dn = self._node(step)
        existing = {vm.vmid: vm for vm in self.conns.proxmox.list_vms()}.get(dn.vm.vmid)
        if existing is not None and existing.managed:
            return "already exists"
        self.conns.proxmox.create_vm(dn.vm)
        return f"created VM {dn.vm.vmid}"

    def _start_vm(self, step: Step) -> str:
        dn = self._node(step)
        self.conns.proxmox.start_vm(dn.vm.node, dn.vm.vmid)
        return f"VM {dn.vm.vmid} running"

    def _update_vm(self, step: Step) -> str:
        dn = self._node(step)
        px = self.conns.proxmox
        pending = px.update_vm(dn.vm, px.vm_config(dn.vm.node, dn.vm.vmid))
        if pending and step.params.get("needs_reboot"):
            px.reboot_vm(dn.vm.node, dn.vm.vmid)
            self._wait_node_healthy(dn)
            return "updated, rebooted, healthy again"
        return "updated" + (" (applies on next boot)" if pending else "")

    def _reboot_vm(self, step: Step) -> str:
        dn = self._node(step)
        self.conns.proxmox.reboot_vm(dn.vm.node, dn.vm.vmid)
        self._wait_node_healthy(dn)
        return "rebooted, healthy again"

    def _stop_vm(self, step: Step) -> str:
        node = self.cluster.proxmox.node
        self.conns.proxmox.stop_vm(node, int(step.params["vmid"]))
        return "stopped"

    def _delete_vm(self, step: Step) -> str:
        self.conns.proxmox.delete_vm(self.cluster.proxmox.node, int(step.params["vmid"]))
        return "deleted"

    # --- talos ---------------------------------------------------------------------------------
    def _apply_config(self, step: Step) -> str:
        dn = self._node(step)
        config = self.configs[dn.name]
        # Checked before anything reaches the node: a node only reports what it refuses after receiving it.
        validate_config_text(config.text, f"machine config of {dn.name}", config.secrets)
        stage = self._wait_stage(dn, ("maintenance", "running"), self._address_hint())
        if stage == "running":
            current = self.conns.talos.machine_config(dn.ip)
            if config_hash(parse_machine_config(current.reveal())) == config.hash:
                return "config already applied"
            self.conns.talos.apply_config(dn.ip, config.text, insecure=False, mode=str(step.params.get("mode", "auto")))
            if step.disruptive:  # a controller of a running cluster: it must be back in etcd before the next one
                self._wait_node_healthy(dn)
            else:
                self._wait_stage(dn, ("running",))
            return "config applied"
        self._register_schematic(dn)  # the install pulls the installer image named in the config
        self.conns.talos.apply_config(dn.ip, config.text, insecure=True)
        self._wait_stage(dn, ("running",))
        return "config applied in maintenance mode; node installed and running"

    def _bootstrap(self, step: Step) -> str:
        dn = self._node(step)
        self._wait_stage(dn, ("running",))
        self.conns.talos.bootstrap(dn.ip)
        self.store.record_bootstrap(self.desired.cluster, _now())
        return f"etcd bootstrapped on {dn.name}"

    def _upgrade_talos(self, step: Step) -> str:
        dn = self._node(step)
        self._register_schematic(dn)
        self.conns.talos.upgrade(dn.ip, str(step.params["image"]))
        self._wait(lambda: self.conns.talos.version(dn.ip) == dn.talos_version, f"{dn.name} running {dn.talos_version}")
        self._wait_node_healthy(dn)
        return f"upgraded to {dn.talos_version}"

    def _upgrade_kubernetes(self, step: Step) -> str:
        return kubernetes_upgrade.upgrade_component(
            self.conns.talos,
            self._kube,
            self._node(step),
            str(step.params["component"]),
            str(step.params["version"]),
            lambda check, what: self._wait(check, what),
        )

    def _sync_manifests(self, step: Step) -> str:
        kube = self._kube()
        try:
            return kubernetes_upgrade.sync_manifests(self.conns.talos, kube, str(step.params["ip"]), self.handoff)
        finally:
            kube.close()

    def _wait_healthy(self, step: Step) -> str:
        if step.target != "cluster":
            self._wait_node_healthy(self._node(step))
            return "healthy"
        first = self.desired.bootstrap_node
        want = {c.ip for c in self.desired.controllers}
        self._wait(
            lambda: want <= set(self.conns.talos.etcd_members(first.ip)), f"etcd listing all {len(want)} controllers"
        )
        kube = self._kube()
        try:
            self._wait(kube.api_ready, "the Kubernetes API answering")
        finally:
            kube.close()
        return f"etcd has {len(want)} members; Kubernetes API answers"

    def _etcd_snapshot(self, step: Step) -> str:
        """Raises SnapshotFailed (Permanent): the disruptive step after it then never starts."""
        keep = self.cluster.backups.keep if self.cluster.backups else 1
        controllers = [Controller(c.name, c.ip) for c in self.desired.controllers]
        info, pruned = take_snapshot(
            self.conns.talos,
            controllers,
            BackupStore(self.conns.settings.backup_dir),
            cluster=self.desired.cluster,
            keep=keep,
            recipients=list(self.age_recipients),
            reason=f"before {step.params.get('before', 'a disruptive step')}",
            exclude=tuple(step.params.get("exclude") or ()),
        )
        kept = f"; deleted {len(pruned)} older" if pruned else ""
        return f"snapshot {info.id} from {info.controller} ({info.size} bytes, encrypted){kept}"

    def _etcd_leave(self, step: Step) -> str:
        """Remove a departing controller's member through a remaining controller (works even if it is down)."""
        via, name = str(step.params["via"]), str(step.params["node_name"])
        members = self.conns.talos.etcd_member_details(via)
        member = next((m for m in members if m.hostname == name), None)
        if member is None:
            return f"{name} is not an etcd member"
        self.conns.talos.etcd_remove_member(via, member.id)
        return f"removed etcd member {name}; {len(members) - 1} remain"

    def _delete_k8s_node(self, step: Step) -> str:
        kube = self._kube()
        try:
            removed = kube.remove_node(str(step.params["node_name"]))
        finally:
            kube.close()
        return "cordoned and deleted from Kubernetes" if removed else "not a Kubernetes node"

    # --- kubernetes / flux ---------------------------------------------------------------------
    def _install_flux(self, step: Step) -> str:
        flux = self.cluster.flux
        assert flux is not None  # the planner only plans this step for clusters with a flux section
        key = self.flux_key()  # before anything is applied: a key that opens the machine secrets stops here
        auth: dict[str, Secret | str] | None = None
        if self.conns.secrets.git_password is not None:
            auth = {"username": self.conns.secrets.git_username or "git", "password": self.conns.secrets.git_password}
        kube = self._kube()
        try:
            kube.install_flux(
                flux.url,
                flux.branch,
                flux.path,
                key.private,
                auth,
                handoff=self.handoff,
                settings=cluster_settings(self.cluster),
            )
        finally:
            kube.close()
        return f"Flux {step.params['version']} installed; syncing {flux.path}"

    def _replace_flux_key(self, step: Step) -> str:
        """A rotated Flux key: the commit re-encrypted flux/ to it, so Flux needs it to decrypt again."""
        key = self.flux_key()
        kube = self._kube()
        timeout = self.conns.settings.flux_timeout
        try:
            kube.replace_sops_secret(key.private, handoff=self.handoff)
            # kustomize-controller reads the Secret on each attempt but does not watch it: a build that already
            # failed with the old key waits for its retryInterval unless asked again, as `flux reconcile` does.
            statuses = self._wait(kube.kustomizations_status, "Flux Kustomizations to list", timeout)
            assert isinstance(statuses, list)
            tokens = {
                (s.namespace, s.name): kube.request_reconcile("Kustomization", s.name, s.namespace) for s in statuses
            }
            for (ns, name), token in sorted(tokens.items()):
                kube.wait_ready("Kustomization", name, ns, timeout=timeout, handled=token)
        finally:
            kube.close()
        return (
            f"sops-age Secret now holds the Flux key {key.recipient}; {len(tokens)} Kustomizations reconciled with it"
        )

    def _apply_flux_settings(self, step: Step) -> str:
        kube = self._kube()
        try:
            kube.apply([flux_install.settings_configmap(cluster_settings(self.cluster))], handoff=self.handoff)
        finally:
            kube.close()
        return f"{flux_install.SETTINGS_CONFIGMAP} applied in {flux_install.FLUX_NAMESPACE}"

    def _wait_flux(self, step: Step) -> str:
        kube = self._kube()
        timeout = self.conns.settings.flux_timeout
        try:
            self._wait(lambda: kube.kustomizations_status(), "Flux Kustomizations to appear", timeout)
            names: set[str] = set()
            while True:
                statuses = kube.kustomizations_status()
                fresh = {s.name for s in statuses} - names
                if not fresh:
                    break
                for name in sorted(fresh):
                    kube.wait_ready("Kustomization", name, timeout=timeout)
                names |= fresh
        finally:
            kube.close()
        return f"{len(names)} Kustomizations Ready: {', '.join(sorted(names))}"

    def _record_handoff(self, step: Step) -> str:
        self.store.record_handoff(self.desired.cluster, _now())
        self.handoff = True
        return "hand-off recorded: Flux owns in-cluster objects"

    def _move_endpoint(self, step: Step) -> str:
        """Re-apply a node's config naming the VIP as control-plane endpoint. Talos applies `.cluster` changes
        immediately (CanApplyImmediate), so `no-reboot` is the mode: it refuses anything that would reboot."""
        dn = self._node(step)
        config = self.endpoint_configs[dn.name]
        self._wait_stage(dn, ("running",))
        current = self.conns.talos.machine_config(dn.ip)
        if config_hash(parse_machine_config(current.reveal())) == config.hash:
            return f"already names {step.params['endpoint']}"
        self.conns.talos.apply_config(dn.ip, config.text, insecure=False, mode="no-reboot")
        return f"control-plane endpoint is now {step.params['endpoint']} (applied without a reboot)"

    def _switch_endpoint(self, step: Step) -> str:
        endpoint = str(step.params["endpoint"])
        kube = self._kube(endpoint)
        try:
            self._wait(kube.api_ready, f"the VIP {self.desired.vip} answering", self.conns.settings.flux_timeout)
        finally:
            kube.close()
        self.store.set_endpoint(self.desired.cluster, endpoint)
        return f"endpoint is now {endpoint}"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


__all__ = ["Kind", "StepRunner"]
