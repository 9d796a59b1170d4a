"""/nodes/{node}/qemu...: create, config (GET/POST/PUT), pending, resize, destroy.

Mirrors qemu-server's API2/Qemu.pm: synchronous checks answer at once (500 with PVE's text), the rest runs
in a worker task whose UPID is returned. Power actions live in `power.py`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from runner.lab.proxmox.errors import PveError
from runner.lab.proxmox.qemu_access import check_create
from runner.lab.proxmox.state import ProxmoxTwinState, Vm
from runner.lab.proxmox.tasks import Task
from runner.lab.proxmox.vmconfig import (
    allocate_drive,
    check_drive_storage,
    current_memory,
    drive_order,
    drive_size,
    format_size,
    is_drive,
    join_drive,
    normalize_net,
    normalize_tags,
    split_drive,
    typed,
)

Params = dict[str, Any]
CONTROL_PARAMS = ("node", "vmid", "start", "storage", "pool", "unique", "force", "archive", "bwlimit", "ha-managed")


def load_vm(state: ProxmoxTwinState, vmid: Any) -> Vm:
    vm = state.vms.get(int(vmid))
    if vm is None:
        raise PveError(f"Configuration file '{state.config_path(int(vmid))}' does not exist")
    return vm


def check_lock(vm: Vm) -> None:
    if lock := vm.config.get("lock"):
        raise PveError(f"VM is locked ({lock})")


def normalize_option(option: str, value: str) -> str:
    if option.startswith("net") and option[3:].isdigit():
        return normalize_net(value)
    if option == "tags":
        return normalize_tags(value)
    return value


def as_str(value: Any) -> str:
    return ("1" if value else "0") if isinstance(value, bool) else str(value)


def create_vm(state: ProxmoxTwinState, params: Params, user: str) -> str:
    vmid = int(params["vmid"])
    if vmid in state.vms:
        raise PveError(f"unable to create VM {vmid} - VM {vmid} already exists on node '{state.node}'")
    options = {k: as_str(v) for k, v in params.items() if k not in CONTROL_PARAMS}
    start_after = as_str(params.get("start", "0")) == "1"
    check_create(state.access, user, vmid, options, start_after)
    for option in sorted(o for o in options if is_drive(o)):
        check_drive_storage(state, option, options[option])
    options = {k: normalize_option(k, v) for k, v in options.items()}
    vm = Vm(vmid, state.node, {"lock": "create"})
    state.vms[vmid] = vm

    def work(task: Task) -> None:
        config: dict[str, str] = {}
        try:
            for option in sorted((o for o in options if is_drive(o)), key=drive_order):
                config[option] = allocate_drive(state, vmid, option, options[option])
                task.log.append(f"{option}: successfully created disk '{config[option].split(',')[0]}'")
        except PveError as exc:
            _drop_volumes(state, vmid)
            del state.vms[vmid]
            raise PveError(f"unable to create VM {vmid} - {exc.message}") from exc
        config.update({k: v for k, v in options.items() if not is_drive(k)})
        config.setdefault("smbios1", f"uuid={uuid.uuid4()}")
        config.setdefault("vmgenid", str(uuid.uuid4()))
        config["meta"] = f"creation-qemu=9.2.0,ctime={int(time.time())}"
        vm.config = config
        if start_after:
            vm.status, vm.started_at = "running", state.clock()

    return state.tasks.start("qmcreate", str(vmid), user, state.delays.create, work).upid


def vm_config(state: ProxmoxTwinState, params: Params, user: str) -> dict[str, Any]:
    vm = load_vm(state, params["vmid"])
    current = as_str(params.get("current", "0")) == "1"
    config = dict(vm.config) if current else vm.effective()
    data: dict[str, Any] = {k: typed(k, v) for k, v in config.items()}
    data["digest"] = vm.digest
    return data


def vm_pending(state: ProxmoxTwinState, params: Params, user: str) -> list[dict[str, Any]]:
    vm = load_vm(state, params["vmid"])
    rows = []
    for key in sorted(set(vm.config) | set(vm.pending) | set(vm.pending_delete)):
        row: dict[str, Any] = {"key": key}
        if key in vm.config:
            row["value"] = typed(key, vm.config[key])
        if key in vm.pending:
            row["pending"] = typed(key, vm.pending[key])
        if key in vm.pending_delete:
            row["delete"] = 1
        rows.append(row)
    return rows


def resize_vm(state: ProxmoxTwinState, params: Params, user: str) -> str:
    vm = load_vm(state, params["vmid"])
    disk, size_text = str(params["disk"]), str(params["size"])
    digest = params.get("digest")

    def work(task: Task) -> None:
        if digest and digest != vm.digest:
            raise PveError("checksum mismatch (file change by other user?)")
        check_lock(vm)
        drive = vm.config.get(disk)
        if not drive:
            raise PveError(f"disk '{disk}' does not exist")
        state.access.check(user, f"/storage/{split_drive(drive)[0].partition(':')[0]}", ["Datastore.AllocateSpace"])
        current = drive_size(drive)
        grow = size_text.startswith("+")
        amount = size_text.lstrip("+")
        unit = amount[-1] if amount[-1] in "KMGT" else ""
        new_size = int(
            float(amount.rstrip("KMGT")) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}[unit]
        )
        new_size += current if grow else 0
        if new_size < current:
            raise PveError("shrinking disks is not supported")
        if new_size == current:
            return
        file, opts = split_drive(drive)
        opts["size"] = format_size(new_size)
        vm.config[disk] = join_drive(file, opts)
        if volume := state.volume(file):
            volume.size = new_size
        task.log.append(f"Image resized to {format_size(new_size)}.")

    return state.tasks.start("resize", str(vm.vmid), user, state.delays.task, work).upid


def destroy_vm(state: ProxmoxTwinState, params: Params, user: str) -> str:
    vm = load_vm(state, params["vmid"])
    if vm.status == "running":
        raise PveError(f"VM {vm.vmid} is running - destroy failed")

    def work(task: Task) -> None:
        if vm.status == "running":
            raise PveError(f"VM {vm.vmid} is running - destroy failed")
        _drop_volumes(state, vm.vmid)
        state.vms.pop(vm.vmid, None)
        if as_str(params.get("purge", "0")) == "1":
            task.log.append(f"purging VM {vm.vmid} from related configurations..")

    return state.tasks.start("qmdestroy", str(vm.vmid), user, state.delays.task, work).upid


def _drop_volumes(state: ProxmoxTwinState, vmid: int) -> None:
    for storage in state.storages.values():
        for volid in [v for v, vol in storage.volumes.items() if vol.vmid == vmid and vol.content == "images"]:
            del storage.volumes[volid]


def apply_pending(vm: Vm) -> None:
    """vmconfig_apply_pending, as a (re)start does it."""
    for option in vm.pending_delete:
        vm.config.pop(option, None)
    vm.config.update(vm.pending)
    vm.pending.clear()
    vm.pending_delete.clear()


def memory_mib(vm: Vm) -> int:
    return current_memory(vm.config.get("memory"))
