"""The QEMU guest agent endpoints the twin serves (POST .../agent/ping).

qemu-server `src/PVE/API2/Qemu/Agent.pm` (9.2.6): the command runs only after
`PVE::QemuServer::Agent::assert_agent_available` - no `agent` option at all: "No QEMU guest agent
configured"; a stopped VM: "VM <vmid> is not running"; an agent option that is not enabled (no QGA socket):
"QEMU guest agent is not running". The twin's guests always run an agent when it is enabled.
Which privilege the endpoint needs depends on the release (`versions.agent_permissions`).
"""

from __future__ import annotations

from typing import Any

from runner.lab.proxmox.errors import PveError
from runner.lab.proxmox.qemu import Params, load_vm
from runner.lab.proxmox.state import ProxmoxTwinState


def _agent_enabled(option: str) -> bool:
    return any(part in ("1", "enabled=1") for part in option.split(","))


def ping(state: ProxmoxTwinState, params: Params, user: str) -> dict[str, Any]:
    vm = load_vm(state, params["vmid"])
    if "agent" not in vm.config:
        raise PveError("No QEMU guest agent configured")
    if vm.status != "running":
        raise PveError(f"VM {vm.vmid} is not running")
    if not _agent_enabled(vm.config["agent"]):
        raise PveError("QEMU guest agent is not running")
    return {"result": {}}  # guest-ping answers an empty object
