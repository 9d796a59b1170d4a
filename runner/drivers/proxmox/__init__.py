"""Proxmox VE driver: `ProxmoxApi` (the interface) and `ProxmoxDriver` (proxmoxer over HTTPS, token auth)."""

from __future__ import annotations

from runner.drivers.proxmox.api import ProxmoxApi, ProxmoxInspect
from runner.drivers.proxmox.client import ProxmoxClient, TaskFailed
from runner.drivers.proxmox.driver import ProxmoxDriver
from runner.drivers.proxmox.vmconfig import create_params, vm_config_diff

__all__ = [
    "ProxmoxApi",
    "ProxmoxClient",
    "ProxmoxDriver",
    "ProxmoxInspect",
    "TaskFailed",
    "create_params",
    "vm_config_diff",
]
