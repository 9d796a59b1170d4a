"""The cluster spec: frozen, typed models of `clusters/<name>/cluster.yaml`.

Field names are camelCase in YAML (aliases) and snake_case in Python. `extra="forbid"` everywhere so a
typo is an error (with a "did you mean" from the loader), never a silently ignored key.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic.alias_generators import to_camel

from runner.core.spec_fields import AcmeEmail, BridgeName, GitUrl, HttpUrl, InterfaceName

ApiVersion = Literal["runner.dev/v1alpha1"]
SPEC_API_VERSION: str = get_args(ApiVersion)[0]

# qemu-server (src/PVE/QemuServer/Memory.pm, get_max_mem) never gives a VM more than 4 TiB.
MAX_MEMORY_MIB = 4 * 1024 * 1024
# No Proxmox storage takes a single disk beyond this; a typo (an extra digit or three) should not reach one.
MAX_DISK_GIB = 1024 * 1024

Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
Version = Annotated[str, StringConstraints(pattern=r"^v\d+\.\d+\.\d+$")]
Mac = Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")]
Extension = Annotated[str, StringConstraints(min_length=1)]
# age X25519 recipient: "age1" + 58 bech32 characters (the bech32 alphabet has no 1, b, i or o).
AgeRecipient = Annotated[str, StringConstraints(pattern=r"^age1[02-9ac-hj-np-z]{58}$")]


class Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True, strict=False
    )


class Proxmox(Model):
    """Where the VMs live. Credentials (token id + secret) come from the secrets file, never from here."""

    url: HttpUrl = Field(description="Base URL of the Proxmox VE API, e.g. https://atlas:8006")
    node: Name = Field(description="The Proxmox node that hosts the cluster's VMs")
    verify_tls: bool = Field(True, description="Verify the API's TLS certificate")
    ca_bundle: str | None = Field(None, description="Path to a CA bundle for a self-signed PVE certificate")
    storage: str = Field("local-lvm", description="Storage for VM disks and EFI disks")
    image_storage: str = Field("local", description="Storage that holds downloaded images (content 'import')")
    bridge: BridgeName = Field("vmbr0", description="Bridge the VMs' NICs attach to")


class ImageFactory(Model):
    url: HttpUrl = Field("https://factory.talos.dev", description="Talos Image Factory base URL")
    platform: Literal["metal", "nocloud"] = Field("metal", description="Image platform")


class AddressRange(Model):
    """An inclusive range of addresses, as Cilium's CiliumLoadBalancerIPPool `blocks` take it."""

    start: ipaddress.IPv4Address = Field(description="First address of the range")
    stop: ipaddress.IPv4Address = Field(description="Last address of the range (inclusive)")

    def __contains__(self, address: object) -> bool:
        return isinstance(address, ipaddress.IPv4Address) and self.start <= address <= self.stop


class Network(Model):
    cidr: ipaddress.IPv4Network = Field(description="Node network, e.g. 10.0.0.0/16")
    gateway: ipaddress.IPv4Address
    nameservers: tuple[ipaddress.IPv4Address, ...] = Field(min_length=1)
    vip: ipaddress.IPv4Address = Field(description="Shared control-plane VIP (kube-vip / Talos VIP)")
    vip_owner: Literal["kube-vip", "talos"] = Field(
        "kube-vip",
        description="Who holds the VIP: kube-vip from the Flux tree (the default), or Talos's built-in VIP "
        "(Layer2VIPConfig from Talos 1.12). Never both: `talos` is refused with `flux`; an adopted cluster keeps "
        "the one it runs",
    )
    interface: InterfaceName = Field("eth0", description="Name of the nodes' NIC inside Talos")
    load_balancers: AddressRange | None = Field(
        None,
        description="Addresses for Services of type LoadBalancer (Cilium LB IPAM, announced with L2 ARP); "
        "inside the network, clear of every node, the VIP and the gateway. Required with `flux`: the add-ons "
        "under flux/ need it",
    )


class Talos(Model):
    version: Version
    extensions: tuple[Extension, ...] = Field(default=(), description="Official extensions, e.g. siderolabs/tailscale")
    install_disk: str = Field("/dev/sda", description="Disk Talos installs to")


class Kubernetes(Model):
    version: Version


class Tailscale(Model):
    login_server: HttpUrl = Field(description="Headscale (or Tailscale) login server URL")


class Certificates(Model):
    """What the add-ons under flux/ issue certificates with (cert-manager's Let's Encrypt ClusterIssuer)."""

    acme_email: AcmeEmail = Field(
        description="Contact of the Let's Encrypt ACME account (`${acme_email}` in flux/): an address you read, "
        "on a public domain; example.com/.net/.org, .local, localhost and IP addresses are refused, as Let's "
        "Encrypt refuses them"
    )


DomainName = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$",
        max_length=253,
    ),
]


class BackupTarget(Model):
    """The S3 bucket Velero writes to; its credentials live in flux/apps/platform/velero/credentials.sops.yaml,
    encrypted to the Flux key (never in cluster.yaml)."""

    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="S3 bucket name")
    region: str = Field(pattern=r"^[a-z0-9-]{1,32}$", description="S3 region, e.g. us-east-1 (or your store's)")
    endpoint: HttpUrl = Field(description="S3 endpoint URL (AWS, MinIO, Garage, ...)")


class Platform(Model):
    """The operator's platform under flux/apps/platform/ (the apps themselves are enabled in flux/clusters/)."""

    domain: DomainName = Field(
        description="DNS domain the platform apps are served on (`${platform_domain}` in flux/): <app>.<domain> "
        "through the cluster's Gateway, with certificates from the letsencrypt ClusterIssuer"
    )
    backups: BackupTarget | None = Field(None, description="Where Velero backs the cluster up (S3)")


class VmDefaults(Model):
    machine: Literal["q35", "pc"] = "q35"
    bios: Literal["ovmf", "seabios"] = "ovmf"
    cpu_type: str = "host"
    cores: int = Field(2, ge=1, le=512)
    memory: int = Field(4096, ge=512, le=MAX_MEMORY_MIB, description="MiB")
    disk_gb: int = Field(32, ge=8, le=MAX_DISK_GIB, description="GiB; disks only grow")
    scsihw: Literal["virtio-scsi-single", "virtio-scsi-pci", "lsi", "megasas", "pvscsi"] = "virtio-scsi-single"
    onboot: bool = True
    agent: bool = True


class Node(Model):
    name: Name
    role: Literal["controlplane", "worker"]
    ip: ipaddress.IPv4Address
    vmid: int = Field(ge=100, le=999_999_999)
    cores: int | None = Field(None, ge=1, le=512)
    memory: int | None = Field(None, ge=512, le=MAX_MEMORY_MIB, description="MiB")
    disk_gb: int | None = Field(None, ge=8, le=MAX_DISK_GIB, description="GiB; disks only grow")
    mac: Mac | None = Field(None, description="Defaults to a MAC derived from cluster + node name")


class Flux(Model):
    url: GitUrl = Field(description="Git URL Flux pulls this repository from")
    branch: str = "main"
    path: str = Field(description="Path of the Flux entry point, e.g. flux/clusters/home")
    age_recipient: AgeRecipient | None = Field(
        None,
        description="Public half of this cluster's Flux age key (the sops-age Secret); flux/**.sops.yaml are "
        "encrypted to it, the machine secrets never are. Its private half is flux.ageKey in secrets.sops.yaml",
    )


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class MaintenanceWindow(Model):
    days: tuple[Day, ...] = Field(min_length=1, description="Weekdays the window opens, e.g. [sat, sun]")
    start: str = Field(description="Local start time, HH:MM (24-hour)")
    duration: Annotated[str, StringConstraints(pattern=r"^(\d+h|\d+m|\d+h\d+m)$")] = Field(
        description="How long it stays open: 4h, 90m or 1h30m"
    )
    time_zone: str = Field("UTC", description="IANA time zone of `start`, e.g. Europe/Berlin")

    @property
    def length(self) -> dt.timedelta:
        hours, _, rest = self.duration.rpartition("h")
        return dt.timedelta(hours=int(hours or 0), minutes=int(rest.rstrip("m") or 0))

    @field_validator("start")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("not a 24-hour time HH:MM such as '02:00'")
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as 'Europe/Berlin' or 'UTC'") from None
        return value


class Maintenance(Model):
    """When disruptive steps (reboots, upgrades, removals) may start; everything else runs at any time."""

    windows: tuple[MaintenanceWindow, ...] = Field(min_length=1)
    node_minutes: int = Field(
        30, ge=1, le=24 * 60, description="Minutes one node's disruptive work may take; it must fit in the window"
    )

    @model_validator(mode="after")
    def _budget_fits(self) -> Maintenance:
        for window in self.windows:
            if window.length < dt.timedelta(minutes=self.node_minutes):
                raise ValueError(f"window {window.duration} is shorter than nodeMinutes ({self.node_minutes})")
        return self


class Backups(Model):
    """etcd snapshots: on a schedule and before every disruptive control-plane step (stored where the
    runner's `backup_dir` setting says, encrypted to the repository's age recipients)."""

    every: Annotated[str, StringConstraints(pattern=r"^(\d+d)?(\d+h)?(\d+m)?$", min_length=2)] = Field(
        "24h", description="How often a snapshot is taken: 6h, 1d, 90m, 1d12h"
    )
    keep: int = Field(7, ge=1, le=1000, description="How many snapshots are kept; older ones are deleted")

    @property
    def interval(self) -> dt.timedelta:
        parts = dict(re.findall(r"(\d+)([dhm])", self.every))
        return dt.timedelta(days=int(parts.get("d", 0)), hours=int(parts.get("h", 0)), minutes=int(parts.get("m", 0)))

    @field_validator("every")
    @classmethod
    def _not_zero(cls, value: str) -> str:
        if not any(int(n) for n in re.findall(r"\d+", value)):
            raise ValueError("the interval must be longer than zero")
        return value


class Adoption(Model):
    """A cluster the runner took over (`runner adopt`) keeps running as it was built until the spec opts in."""

    rollout: bool = Field(
        False,
        description="Roll out the differences an adopted cluster can only take with a reboot (schematic, kernel "
        "arguments) one node at a time with drains; until then they are only reported",
    )


class Cluster(Model):
    """A whole cluster: the one document in cluster.yaml."""

    api_version: ApiVersion = Field(alias="apiVersion")
    kind: Literal["Cluster"]
    name: Name
    proxmox: Proxmox
    image_factory: ImageFactory = ImageFactory()
    network: Network
    talos: Talos
    kubernetes: Kubernetes
    tailscale: Tailscale | None = None
    certificates: Certificates | None = Field(None, description="Certificates for the add-ons; required with flux")
    platform: Platform | None = Field(None, description="The platform apps' domain and backup target")
    vm_defaults: VmDefaults = VmDefaults()
    nodes: tuple[Node, ...] = Field(min_length=1)
    flux: Flux | None = None
    allow_destroy: bool = Field(False, description="Allow plans that delete VMs or remove controllers")
    drift: Literal["correct", "report"] = Field("correct", description="Correct drift, or only report it")
    maintenance: Maintenance | None = Field(None, description="Maintenance windows for disruptive steps")
    backups: Backups | None = Field(None, description="etcd snapshots: schedule and how many to keep")
    adoption: Adoption = Field(Adoption(), description="How an adopted cluster (runner adopt) takes the spec")

    @property
    def controllers(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.role == "controlplane")

    @property
    def workers(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.role == "worker")
