"""Handler table: PVE handler name (as in apidata.js) -> twin implementation; plus the small read-only ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runner.lab.proxmox import agent, disks, node_info, power, qemu, qemu_update, storage
from runner.lab.proxmox.errors import PveError, param_error
from runner.lab.proxmox.state import GIB, ProxmoxTwinState

Handler = Callable[[ProxmoxTwinState, dict[str, Any], str], Any]


class WithTotal:
    """A reply that carries PVE's `total` attribute next to `data` (task logs)."""

    def __init__(self, data: Any, total: int) -> None:
        self.data = data
        self.total = total


def version(state: ProxmoxTwinState, params: dict[str, Any], user: str) -> dict[str, Any]:
    release = ".".join(state.version.split(".")[:2])
    return {"version": state.version, "release": release, "repoid": "2e4fc3c8d7c1a0e9"}


def nodes(state: ProxmoxTwinState, params: dict[str, Any], user: str) -> list[dict[str, Any]]:
    return [
        {
            "node": state.node,
            "id": f"node/{state.node}",
            "type": "node",
            "status": "online",
            "level": "",
            "maxcpu": 16,
            "maxmem": 64 * GIB,
            "maxdisk": 512 * GIB,
            "cpu": 0.02,
            "mem": 8 * GIB,
            "disk": 16 * GIB,
            "uptime": 86400,
        }
    ]


def _task(state: ProxmoxTwinState, params: dict[str, Any], user: str) -> Any:
    task = state.tasks.get(str(params["upid"]))
    if task is None:
        if not str(params["upid"]).startswith("UPID:"):
            raise param_error({"upid": "unable to parse worker upid"})
        raise PveError(f"task '{params['upid']}' does not exist")
    # pve-manager API2/Tasks.pm check_task_user: the owner (or a token's user) reads it, others need Sys.Audit
    if user not in (task.user, task.user.partition("!")[0]):
        state.access.check(user, f"/nodes/{state.node}", ["Sys.Audit"])
    return task


def task_status(state: ProxmoxTwinState, params: dict[str, Any], user: str) -> dict[str, Any]:
    return dict(_task(state, params, user).status())


def task_log(state: ProxmoxTwinState, params: dict[str, Any], user: str) -> WithTotal:
    lines = list(_task(state, params, user).log) or ["no content"]
    start, limit = int(params.get("start", 0)), int(params.get("limit", 50))
    window = lines[start:] if limit == 0 else lines[start : start + limit]
    return WithTotal([{"n": start + i + 1, "t": text} for i, text in enumerate(window)], len(lines))


Q = "/nodes/{node}/qemu"
VM = Q + "/{vmid}"

# keyed by (method, path template) exactly as the vendored schema names them
HANDLERS: dict[tuple[str, str], Handler] = {
    ("GET", "/version"): version,
    ("GET", "/cluster/resources"): power.cluster_resources,
    ("GET", "/nodes"): nodes,
    ("GET", "/access/permissions"): node_info.permissions,
    ("GET", "/nodes/{node}/network"): node_info.network,
    ("GET", "/nodes/{node}/storage"): node_info.node_storages,
    ("GET", Q): power.list_vms,
    ("POST", Q): qemu.create_vm,
    ("DELETE", VM): qemu.destroy_vm,
    ("GET", VM + "/config"): qemu.vm_config,
    ("POST", VM + "/config"): lambda s, p, u: qemu_update.update_vm(s, p, u, sync=False),
    ("PUT", VM + "/config"): lambda s, p, u: qemu_update.update_vm(s, p, u, sync=True),
    ("GET", VM + "/pending"): qemu.vm_pending,
    ("PUT", VM + "/resize"): qemu.resize_vm,
    # qemu-server Qemu.pm `unlink`: update_vm with `delete` = idlist (what a CSI detach sends)
    ("PUT", VM + "/unlink"): lambda s, p, u: qemu_update.update_vm(
        s, {**{k: v for k, v in p.items() if k not in ("idlist", "force")}, "delete": p["idlist"]}, u, sync=True
    ),
    ("GET", VM + "/status/current"): power.vm_status,
    ("POST", VM + "/status/start"): power.vm_start,
    ("POST", VM + "/status/stop"): power.vm_stop,
    ("POST", VM + "/status/shutdown"): power.vm_shutdown,
    ("POST", VM + "/status/reboot"): power.vm_reboot,
    ("POST", VM + "/agent/ping"): agent.ping,
    ("GET", "/nodes/{node}/storage/{storage}/content"): storage.list_content,
    ("POST", "/nodes/{node}/storage/{storage}/download-url"): storage.download_url,
    ("POST", "/nodes/{node}/storage/{storage}/content"): disks.allocate_disk,
    ("GET", "/nodes/{node}/storage/{storage}/status"): disks.storage_status,
    ("GET", "/nodes/{node}/tasks/{upid}/status"): task_status,
    ("GET", "/nodes/{node}/tasks/{upid}/log"): task_log,
}
