"""What a node's machine config depends on, besides the secrets bundle.

Checked on construction so a bad value is reported by field name before any YAML is produced.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.core.talos.contract import SUPPORTED_TALOS_MINORS, VersionContract, supported_text

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


def _fail(field: str, value: object, why: str) -> Permanent:
    return Permanent(f"machine config input {field}={value!s}: {why}")


@dataclass(frozen=True)
class MachineConfigInput:
    cluster_name: str
    name: str  # hostname of the node
    role: Literal["controlplane", "worker"]
    ip: str
    prefixlen: int
    gateway: str
    nameservers: tuple[str, ...]
    interface: str
    install_disk: str
    installer_image: str  # e.g. factory.talos.dev/installer/<schematic>:v1.11.2
    talos_version: str
    kubernetes_version: str
    cluster_endpoint: str  # https://<first controller>:6443 until the VIP answers
    vip: str
    controller_ips: tuple[str, ...]
    tailscale_login_server: str | None = None
    tailscale_auth_key: Secret | None = None
    pod_subnets: tuple[str, ...] = ("10.244.0.0/16",)  # constants.DefaultIPv4PodNet
    service_subnets: tuple[str, ...] = ("10.96.0.0/12",)  # constants.DefaultIPv4ServiceNet
    dns_domain: str = "cluster.local"
    # Who holds the control-plane VIP: kube-vip (a static pod Flux installs) or Talos itself (the `vip:` of the
    # interface up to v1.11, a Layer2VIPConfig document from v1.12). Never both: two owners would fight over it.
    vip_owner: Literal["kube-vip", "talos"] = "kube-vip"
    # machine.nodeLabels beyond the role's: the topology Proxmox CSI places volumes by (region, zone)
    node_labels: tuple[tuple[str, str], ...] = ()
    # The deprecated top-level `persist`: None leaves it out (the runner's own clusters); True keeps what
    # `talosctl gen config` and Terraform's provider write on every node, for an adopted cluster (machine_config).
    persist: bool | None = None

    def __post_init__(self) -> None:
        if self.role not in ("controlplane", "worker"):
            raise _fail("role", self.role, 'must be "controlplane" or "worker"')
        for field in ("cluster_name", "name", "interface", "install_disk", "installer_image"):
            if not getattr(self, field):
                raise _fail(field, "''", "must not be empty")
        for field in ("ip", "gateway", "vip"):
            _ipv4(field, getattr(self, field))
        for field in ("nameservers", "controller_ips"):
            values = getattr(self, field)
            if not isinstance(values, tuple) or not values:
                raise _fail(field, values, "must be a non-empty tuple of IPv4 addresses")
            for value in values:
                _ipv4(field, value)
        if not 1 <= self.prefixlen <= 32:
            raise _fail("prefixlen", self.prefixlen, "must be between 1 and 32")
        if ipaddress.IPv4Address(self.gateway) not in self.network:
            raise _fail("gateway", self.gateway, f"is not inside the node network {self.network}")
        talos = _VERSION.match(self.talos_version)
        if not talos or (int(talos[1]), int(talos[2])) not in SUPPORTED_TALOS_MINORS:
            raise _fail("talos_version", self.talos_version, f"machine configs are written for {supported_text()}")
        if self.vip_owner not in ("kube-vip", "talos"):
            raise _fail("vip_owner", self.vip_owner, 'must be "kube-vip" or "talos"')
        if not _VERSION.match(self.kubernetes_version):
            raise _fail("kubernetes_version", self.kubernetes_version, "expected a version like v1.32.1")
        if not re.match(r"^https://[^/\s]+(:\d+)?/?$", self.cluster_endpoint):
            raise _fail("cluster_endpoint", self.cluster_endpoint, "expected https://<host>:<port>")
        if self.tailscale_login_server is not None and not re.match(r"^https?://\S+$", self.tailscale_login_server):
            raise _fail("tailscale_login_server", self.tailscale_login_server, "expected an http(s) URL")

    @property
    def contract(self) -> VersionContract:
        """What the Talos version this config is written for expects (checked in __post_init__)."""
        return VersionContract.of(self.talos_version)

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Interface(f"{self.ip}/{self.prefixlen}").network

    @property
    def kubernetes_tag(self) -> str:
        """Image tag of the Kubernetes components: always `v`-prefixed, as Talos writes `:v%s`."""
        return "v" + self.kubernetes_version.removeprefix("v")

    @property
    def endpoint_host(self) -> str:
        return self.cluster_endpoint.removeprefix("https://").split("/", 1)[0].rsplit(":", 1)[0]


def _ipv4(field: str, value: object) -> None:
    try:
        ipaddress.IPv4Address(str(value))
    except ValueError:
        raise _fail(field, value, "is not an IPv4 address") from None
