"""In-memory state of the Proxmox VE twin: one node, its storages, VMs, tasks, tokens, faults, call log."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from runner.lab.proxmox.access import AccessControl
from runner.lab.proxmox.faults import CallLog, Faults
from runner.lab.proxmox.images import ImageResolver, deterministic_image
from runner.lab.proxmox.tasks import TaskTable

GIB = 1024**3
# The pve-manager release the twin imitates unless told otherwise (`/version`, and what depends on it).
DEFAULT_VERSION = "9.2.11"  # pve-manager debian/changelog, newest 9.x; 8.4.x is still imitated


@dataclass
class Volume:
    volid: str  # e.g. local:import/talos.qcow2, local-lvm:vm-300-disk-0
    content: str  # import | iso | vztmpl | images
    format: str  # qcow2 | raw | iso | tgz ...
    size: int  # bytes on the storage
    vmid: int | None = None
    virtual_size: int = 0  # for disk images: the size of the disk they hold
    ctime: int = field(default_factory=lambda: int(time.time()))
    sha256: str = ""
    # Where the bytes came from (download URL; for an imported disk, its source's origin). Real PVE keeps no
    # such record; the lab reads it the way firmware would read the disk, to know which image a VM boots.
    origin: str = ""


@dataclass
class Storage:
    name: str
    type: str  # dir | lvmthin
    content: frozenset[str]
    volumes: dict[str, Volume] = field(default_factory=dict)

    @property
    def file_based(self) -> bool:
        return self.type == "dir"


@dataclass
class Vm:
    vmid: int
    node: str
    config: dict[str, str]
    pending: dict[str, str] = field(default_factory=dict)
    pending_delete: list[str] = field(default_factory=list)
    status: str = "stopped"  # stopped | running
    started_at: float = 0.0

    def config_text(self) -> str:
        # what /etc/pve/qemu-server/<vmid>.conf holds; its sha1 is the `digest`
        lines = [f"{k}: {v}" for k, v in sorted(self.config.items())]
        if self.pending or self.pending_delete:
            lines += ["", "[PENDING]"]
            if self.pending_delete:
                lines.append(f"delete: {','.join(self.pending_delete)}")
            lines += [f"{k}: {v}" for k, v in sorted(self.pending.items())]
        return "\n".join(lines) + "\n"

    @property
    def digest(self) -> str:
        return hashlib.sha1(self.config_text().encode()).hexdigest()

    def effective(self) -> dict[str, str]:
        """The config with pending changes applied (what GET .../config returns by default)."""
        merged = {k: v for k, v in self.config.items() if k not in self.pending_delete}
        merged.update(self.pending)
        return merged


def default_storages() -> dict[str, Storage]:
    # A fresh PVE install's storage.cfg has `local` with iso,vztmpl,backup: `import` is the operator's
    # `pvesm set local --content iso,vztmpl,backup,import`. The twin starts as if that was done; tests
    # of the missing content type take it away again.
    return {
        "local": Storage("local", "dir", frozenset({"iso", "vztmpl", "backup", "import", "snippets"})),
        "local-lvm": Storage("local-lvm", "lvmthin", frozenset({"images", "rootdir"})),
    }


@dataclass
class Delays:
    """Seconds each kind of task takes; small defaults keep tests fast, the lab may raise them."""

    task: float = 0.05  # config, resize, destroy, stop
    create: float = 0.1  # create incl. disk import
    start: float = 0.1  # start until the guest runs (boot delay)
    shutdown: float = 0.1  # ACPI shutdown until the guest is off
    download: float = 0.1  # a download-url transfer
    auth_failure: float = 0.0  # PVE delays 401 replies by 3 s; kept off by default for tests


class ProxmoxTwinState:
    """Everything the twin knows. Thread-safe through `lock`; handlers run under it."""

    def __init__(
        self,
        node: str = "atlas",
        tokens: dict[str, str] | None = None,
        storages: dict[str, Storage] | None = None,
        delays: Delays | None = None,
        resolver: ImageResolver | None = None,
        version: str = DEFAULT_VERSION,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.node = node
        # token id "user@realm!tokenid" -> secret (a UUID in real PVE)
        self.tokens = dict(tokens or {"root@pam!runner": "7d1f3c52-5b8e-4a8e-9a57-0c1d2e3f4a5b"})
        # user.cfg; tokens given here have no privilege separation (they act as their user, so a root@pam
        # token may do anything); `host_setup` adds users, roles, privsep tokens and ACLs as pveum does
        self.access = AccessControl(version)
        for token_id in self.tokens:
            self.access.add_token(token_id, privsep=False)
        self.bridges: set[str] = {"vmbr0"}  # /etc/network/interfaces of the node
        self.storages = storages or default_storages()
        self.delays = delays or Delays()
        self.resolver: ImageResolver = resolver or deterministic_image
        self._version = version
        self.clock = clock
        self.vms: dict[int, Vm] = {}
        self.tasks = TaskTable(node, clock)
        self.faults = Faults()
        self.calls = CallLog()
        self.lock = threading.RLock()

    @property
    def version(self) -> str:
        return self._version

    @version.setter
    def version(self, value: str) -> None:
        # an upgrade in place: user.cfg stays, the new release reads it with its own privileges
        self._version = value
        self.access.version = value

    def tick(self) -> None:
        self.tasks.tick()

    def config_path(self, vmid: int) -> str:
        return f"nodes/{self.node}/qemu-server/{vmid}.conf"

    def volume(self, volid: str) -> Volume | None:
        storage = self.storages.get(volid.partition(":")[0])
        return storage.volumes.get(volid) if storage else None

    def add_foreign_vm(self, vmid: int, name: str, running: bool = False, tags: str = "") -> Vm:
        """A VM someone else made by hand (untagged unless given), for ownership tests and the lab."""
        config = {"name": name, "memory": "2048", "cores": "1", "ostype": "l26", "scsihw": "virtio-scsi-single"}
        config["scsi0"] = f"local-lvm:vm-{vmid}-disk-0,size=8G"
        self.storages["local-lvm"].volumes[f"local-lvm:vm-{vmid}-disk-0"] = Volume(
            f"local-lvm:vm-{vmid}-disk-0", "images", "raw", 8 * GIB, vmid
        )
        if tags:
            config["tags"] = tags
        vm = Vm(vmid, self.node, config, status="running" if running else "stopped", started_at=self.clock())
        self.vms[vmid] = vm
        return vm
