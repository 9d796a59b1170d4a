"""How the runner reaches a cluster's outside systems: settings (overrides) + targets + secrets -> drivers.

By default the targets come from cluster.yaml (for a plan, the protected branch's), so a real Proxmox needs
no settings at all. Overrides exist for the lab (twins on loopback) and for unusual networks: they are
configuration, not code paths, so the lab exercises exactly what a real installation runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runner.core.cluster_secrets import ClusterSecrets
from runner.core.errors import Permanent
from runner.core.secret import Secret, reveal_tree
from runner.core.talos import SecretsBundle, bundle_from_dict
from runner.engine.reconcile.connection_targets import ConnectionTargets
from runner.engine.reconcile.target_settings import TargetSettings, mapped

if TYPE_CHECKING:
    from runner.drivers.imagefactory import ImageFactoryApi
    from runner.drivers.kube import KubeApi
    from runner.drivers.proxmox import ProxmoxApi, ProxmoxDriver
    from runner.drivers.proxmox.api import ProxmoxInspect
    from runner.drivers.talos import TalosApi, TalosctlDriver


@dataclass
class Connections:
    """The drivers for one cluster, built lazily (a no-op run must not pay for what it does not use).

    The engine sees each driver only through its Protocol (`ProxmoxApi`, `TalosApi`, `KubeApi`,
    `ImageFactoryApi`), so step handlers and observation can be driven by scripted ones in tests.

    Driver modules are imported on first use too: their client libraries (proxmoxer/requests, lightkube and
    its HTTP stack) are a large part of an idle service's memory, and an idle service has used none of them.
    """

    settings: TargetSettings
    targets: ConnectionTargets  # where secrets may be sent: never chosen by a pull request
    secrets: ClusterSecrets
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _proxmox: ProxmoxDriver | None = None
    _talos: TalosctlDriver | None = None
    _bundle: SecretsBundle | None = None
    _kubeconfig: Secret | None = None

    @property
    def bundle(self) -> SecretsBundle:
        if self._bundle is None:
            if not self.secrets.talos:
                raise Permanent("the secrets file has no talos bundle (run `runner init`, or add one with sops)")
            self._bundle = bundle_from_dict(reveal_tree(self.secrets.talos), source="secrets.sops.yaml: talos")
        return self._bundle

    @property
    def proxmox(self) -> ProxmoxApi:
        return self._proxmox_driver()

    @property
    def proxmox_inspect(self) -> ProxmoxInspect:
        """The same client, for the read-only checks (doctor's and the apply preflight's privilege look-ups)."""
        return self._proxmox_driver()

    @property
    def proxmox_url(self) -> str:
        return self.settings.proxmox_url or self.targets.proxmox_url

    def _proxmox_driver(self) -> ProxmoxDriver:
        with self._lock:
            if self._proxmox is None:
                from runner.drivers.proxmox import ProxmoxDriver

                t = self.targets
                ca = str(self.settings.proxmox_ca_bundle or t.proxmox_ca_bundle or "") or None
                self._proxmox = ProxmoxDriver(
                    self.proxmox_url,
                    self.secrets.proxmox_token_id,
                    self.secrets.proxmox_token_secret,
                    ca_bundle=str(ca) if ca else None,
                    verify_tls=t.proxmox_verify_tls,
                    poll_interval=0.2,
                )
            return self._proxmox

    def image_factory(self) -> ImageFactoryApi:
        from runner.drivers.imagefactory import ImageFactoryDriver

        return ImageFactoryDriver(self.settings.image_factory_url or self.targets.image_factory_url)

    def may_contact(self, address: str) -> bool:
        """Whether `address` may receive the runner's Talos client certificate (a target node or the VIP)."""
        return address in self.targets.hosts

    @property
    def talos(self) -> TalosApi:
        with self._lock:
            if self._talos is None:
                from runner.core.talosctl_choice import parse_minor_key
                from runner.drivers.talos import TalosctlDriver

                os_ca = self.bundle.certs.os
                self._talos = TalosctlDriver(
                    os_ca.crt.encode(),
                    os_ca.key,
                    talosctl_path=self.settings.talosctl_path,
                    talosctl_paths={parse_minor_key(k): v for k, v in self.settings.talosctl_paths.items()},
                    timeout=120.0,
                    allowed_nodes=self.targets.hosts,
                )
            return self._talos

    def admin_kubeconfig(self, endpoint: str) -> Secret:
        """An admin kubeconfig for `endpoint`, issued from the bundle's Kubernetes CA (never stored)."""
        from runner.drivers.kube.credentials import admin_kubeconfig

        ca = self.bundle.certs.k8s
        return admin_kubeconfig(ca.crt, ca.key, self.targets.cluster, endpoint)

    def kube(self, endpoint: str) -> KubeApi:
        """A Kubernetes client for `endpoint` (https://host:port), through the address map when set."""
        from runner.drivers.kube import LightkubeApi

        host_port = endpoint.split("://", 1)[-1].rstrip("/")
        host, _, port = host_port.partition(":")
        if not self.may_contact(host):
            raise Permanent(f"refusing to send the kubeconfig to {host}: not a node or VIP of the connection targets")
        target = mapped(self.settings, host, int(port or 6443))
        return LightkubeApi(self.admin_kubeconfig(endpoint), server=f"https://{target}")

    def close(self) -> None:
        if self._proxmox is not None:
            self._proxmox.close()
