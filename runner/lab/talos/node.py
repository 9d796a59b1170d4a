"""One simulated Talos machine: its lifecycle as a transition table, driven by a clock.

Phases (what the API of the machine looks like in each):
  off         powered off: nothing answers (no route to host)
  booting     kernel up, no API yet (connection refused); ends in maintenance or running
  maintenance no config: only the insecure maintenance API answers
  installing  config accepted, installer running, then reboot (connection refused)
  rebooting   reboot or upgrade in progress (connection refused)
  running     installed and configured: the secure (mTLS) API answers
Timed phases carry a deadline; `advance` applies every transition whose deadline has passed, so the
model needs no threads and a test can drive it with a fake clock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from runner.lab.talos.machineconfig import MachineConfig
from runner.lab.talos.tailscale import TailscaleState

Phase = Literal["off", "booting", "maintenance", "installing", "rebooting", "running"]


@dataclass
class NodeFaults:
    stuck_in_maintenance: bool = False  # accepts apply-config --insecure but never installs
    no_return_after_reboot: bool = False  # reboot/upgrade never comes back up
    latency: float = 0.0  # seconds added to every API call to this node
    etcd_snapshot_fails: bool = False  # `etcd snapshot` cannot reach the local etcd
    # seconds a reply of the named API is late, after the node has acted on the call (a slow way back)
    late_replies: dict[str, float] = field(default_factory=dict)


@dataclass
class Delays:
    boot: float = 0.2
    install: float = 0.2
    reboot: float = 0.2
    # After a boot, etcd takes a while to start and rejoin before it serves (Talos checks its health first
    # after an initial delay of 5 s: services/etcd.go HealthSettings); until then the member counts as down.
    etcd_start: float = 0.2
    # From `bootstrap` until etcd runs in bootstrap mode (machined's BootstrapEtcd: the service is Preparing,
    # the data directory still empty); it then serves `etcd_start` later, like after a boot.
    etcd_bootstrap: float = 0.0


@dataclass
class SimNode:
    ip: str
    hostname: str
    version: str
    installer_image: str = ""
    phase: Phase = "off"
    deadline: float | None = None
    config: MachineConfig | None = None
    staged_config: MachineConfig | None = None
    pending_version: str | None = None
    pending_image: str | None = None
    installed: bool = False
    # every Talos version this node booted installed, in order (an upgrade story checks each minor was run)
    versions_run: list[str] = field(default_factory=list)
    upgrade_failures: list[str] = field(default_factory=list)  # what the upgrade sequence logged
    etcd_data: bool = False  # the etcd data directory is not empty
    etcd_stopped: bool = False  # left or was removed from etcd; stays out until the next boot
    boot_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    faults: NodeFaults = field(default_factory=NodeFaults)
    etcd_ready_at: float | None = None  # when this boot's etcd member serves (None: at once)
    etcd_bootstrap_at: float | None = None  # a bootstrap in progress: when etcd starts running (this boot only)
    links: tuple[str, ...] | None = None  # NIC names; None: not modelled (a node registered by hand)
    platform_link: str = ""  # the link META 0xa puts `ip` on
    tailscale: TailscaleState = field(default_factory=TailscaleState)  # /var/lib/tailscale (EPHEMERAL)
    held: tuple[str, ...] = ()  # addresses another program put on its link (kube-vip's VIP); gone when it stops

    @property
    def is_controlplane(self) -> bool:
        return self.config is not None and self.config.is_controlplane

    @property
    def has_address(self) -> bool:
        """Whether `ip` is up: some layer (META's platform config, the machine config) puts it on a real link."""
        if self.links is None or self.platform_link in self.links:
            return True
        config = self.config if self.installed else None
        return config is not None and any(
            link in self.links and self.ip in addresses for link, addresses in config.interfaces
        )

    def _enter(self, phase: Phase, now: float, delay: float | None) -> None:
        self.phase = phase
        if phase != "running":
            self.held = ()  # the links go down with the machine
        self.deadline = None if delay is None else now + delay

    def power_on(self, now: float, delays: Delays) -> None:
        if self.phase == "off":
            self._enter("booting", now, delays.boot)

    def power_off(self) -> None:
        self._enter("off", 0.0, None)

    def start_install(self, config: MachineConfig, now: float, delays: Delays) -> None:
        if self.faults.stuck_in_maintenance:
            return  # the install "fails" and the machine falls back to maintenance without a config
        self.config = config
        self._enter("installing", now, delays.install)

    def start_reboot(self, now: float, delays: Delays) -> None:
        self._enter("rebooting", now, None if self.faults.no_return_after_reboot else delays.reboot)

    def wipe(self) -> None:
        """`reset`: STATE and EPHEMERAL are wiped; the machine comes back without config or etcd data."""
        self.config = self.staged_config = None
        self.installed = self.etcd_data = self.etcd_stopped = False
        self.tailscale = TailscaleState()

    def advance(self, now: float, etcd_start: float = 0.0) -> None:
        while self.deadline is not None and now >= self.deadline:
            at = self.deadline
            if self.phase == "booting":
                configured = self.installed and self.config is not None
                self._enter("running" if configured else "maintenance", at, None)
            elif self.phase in ("installing", "rebooting"):
                self._finish_boot()
                self._enter("running", at, None)
            else:
                self.deadline = None
            if self.phase == "running":
                self.boot_id = uuid.uuid4().hex
                self.etcd_ready_at = at + etcd_start
                self.etcd_bootstrap_at = None  # a bootstrap that never started etcd is lost with the boot

    def _finish_boot(self) -> None:
        if not self.installed and self.config is not None:
            # A fresh install writes the image named by machine.install.image to a wiped disk.
            self.installer_image = self.config.install_image
            self.tailscale = TailscaleState()
        self.installed = True
        self.etcd_stopped = False
        if self.staged_config is not None:
            self.config, self.staged_config = self.staged_config, None
        if self.pending_version is not None:
            self.version, self.pending_version = self.pending_version, None
        if not self.versions_run or self.versions_run[-1] != self.version:
            self.versions_run.append(self.version)
        if self.pending_image is not None:
            self.installer_image, self.pending_image = self.pending_image, None
