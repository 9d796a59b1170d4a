"""How the runner reaches a cluster's outside systems: settings (overrides) + spec + secrets -> drivers.

By default everything comes from cluster.yaml and the secrets file, so a real Proxmox needs no settings at
all. Overrides exist for the lab (twins on loopback) and for unusual networks: they are configuration, not
code paths, so the lab exercises exactly what a real installation runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from runner.core.cluster_secrets import ClusterSecrets
from runner.core.errors import Permanent
from runner.core.secret import Secret, reveal_tree
from runner.core.spec import Cluster
from runner.core.talos import SecretsBundle, bundle_from_dict
from runner.drivers.imagefactory import ImageFactoryDriver
from runner.drivers.kube import LightkubeApi
from runner.drivers.proxmox import ProxmoxDriver
from runner.drivers.talos import TalosctlDriver


class TargetSettings(BaseSettings):
    """Settings every command shares (CLI and service); all optional, all `RUNNER_*` variables."""

    model_config = SettingsConfigDict(env_prefix="RUNNER_", extra="forbid", frozen=True)

    db_path: Path = Field(
        Path("runner.db"), description="SQLite file: queue, run journal and what the runner remembers"
    )
    age_key_file: Path | None = Field(
        None, description="age key for SOPS (default: SOPS_AGE_KEY_FILE, then sops' path)"
    )
    proxmox_url: str | None = Field(None, description="Use this Proxmox API URL instead of the spec's proxmox.url")
    proxmox_ca_bundle: Path | None = Field(None, description="CA bundle for the Proxmox API (overrides the spec's)")
    image_factory_url: str | None = Field(None, description="Use this Image Factory instead of the spec's")
    talosctl_path: str = Field("talosctl", description="The talosctl executable")
    address_map: dict[str, str] = Field(
        default_factory=dict,
        description='Reach cluster addresses elsewhere, e.g. {"10.0.0.11:6443": "127.0.0.1:7001"} (the lab uses it)',
    )
    max_parallel_steps: int = Field(5, ge=1, le=64, description="Plan steps run at once (VM creation, downloads, ...)")
    boot_timeout: float = Field(600.0, gt=0, description="Seconds a node may take to reach maintenance or running")
    flux_timeout: float = Field(900.0, gt=0, description="Seconds Flux may take to make its Kustomizations Ready")
    poll_seconds: float = Field(2.0, gt=0, description="Seconds between checks while waiting on nodes and Flux")


def mapped(settings: TargetSettings, host: str, port: int) -> str:
    return settings.address_map.get(f"{host}:{port}", f"{host}:{port}")


@dataclass
class Connections:
    """The drivers for one cluster, built lazily (a no-op run must not pay for what it does not use)."""

    settings: TargetSettings
    cluster: Cluster
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
    def proxmox(self) -> ProxmoxDriver:
        with self._lock:
            if self._proxmox is None:
                spec = self.cluster.proxmox
                ca = self.settings.proxmox_ca_bundle or (Path(spec.ca_bundle) if spec.ca_bundle else None)
                self._proxmox = ProxmoxDriver(
                    self.settings.proxmox_url or spec.url,
                    self.secrets.proxmox_token_id,
                    self.secrets.proxmox_token_secret,
                    ca_bundle=ca,
                    verify_tls=spec.verify_tls,
                    poll_interval=0.2,
                )
            return self._proxmox

    def image_factory(self) -> ImageFactoryDriver:
        return ImageFactoryDriver(self.settings.image_factory_url or self.cluster.image_factory.url)

    @property
    def talos(self) -> TalosctlDriver:
        with self._lock:
            if self._talos is None:
                os_ca = self.bundle.certs.os
                self._talos = TalosctlDriver(
                    os_ca.crt.encode(), os_ca.key, talosctl_path=self.settings.talosctl_path, timeout=120.0
                )
            return self._talos

    def kube(self, endpoint: str, kubeconfig: Secret) -> LightkubeApi:
        """A Kubernetes client for `endpoint` (https://host:port), through the address map when set."""
        host_port = endpoint.split("://", 1)[-1].rstrip("/")
        host, _, port = host_port.partition(":")
        target = mapped(self.settings, host, int(port or 6443))
        return LightkubeApi(kubeconfig, server=f"https://{target}")

    def close(self) -> None:
        if self._proxmox is not None:
            self._proxmox.close()
