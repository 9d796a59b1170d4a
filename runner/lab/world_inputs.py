"""What a lab world is given: the cluster's inputs, how long simulated things take, and where it may download
from (loopback twins only)."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

import httpx

from runner.lab.proxmox.host_setup import HostPlan


@dataclass(frozen=True)
class LabInputs:
    """What the lab needs to know of the cluster: its Proxmox host, the Kubernetes CA, addresses."""

    host: HostPlan  # the node, storages and bridge, and the token the README's commands grant
    proxmox_token_secret: str
    kube_ca_crt: bytes
    kube_ca_key: bytes
    kubernetes_version: str
    talos_version: str  # the spec's: the talosctl an operator installs for this cluster imitates that release
    controller_ips: tuple[str, ...]
    vip: str
    flux_url: str
    repo_full_name: str = "home/cluster"
    # Proxmox CSI's own token (id, secret) from the Flux tree: the lab grants it the README's CSI role
    csi_token: tuple[str, str] | None = None


@dataclass(frozen=True)
class Pace:
    """How long simulated things take (seconds). `fast` for tests; the default shows progress."""

    task: float = 0.3
    boot: float = 1.0
    install: float = 1.5
    reboot: float = 1.0
    download: float = 0.8

    @classmethod
    def fast(cls) -> Pace:
        return cls(task=0.05, boot=0.2, install=0.3, reboot=0.2, download=0.1)


def loopback_resolver(url: str) -> bytes:
    """The Proxmox twin's downloader: fetches only from loopback twins, never the internet."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the lab downloads only from loopback, not {host}")
    response = httpx.get(url, timeout=30)
    response.raise_for_status()
    return response.content
