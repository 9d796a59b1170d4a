"""POST/PUT /nodes/{node}/qemu/{vmid}/config: what applies at once and what waits in [PENDING].

As qemu-server's update_vm_api: changes go to the pending section; on a stopped VM they apply at once,
on a running one only what `hotplug.py` says is hot-pluggable does (fast-plug options, NICs and disks with
the default hotplug features) - memory, cores and the CPU type wait for the next start or reboot.
"""

from __future__ import annotations

from runner.lab.proxmox.errors import PveError, param_error
from runner.lab.proxmox.formats import split_list
from runner.lab.proxmox.hotplug import applies_live, deletes_live
from runner.lab.proxmox.qemu import Params, apply_pending, as_str, check_lock, load_vm, normalize_option
from runner.lab.proxmox.qemu_access import check_update
from runner.lab.proxmox.schema import option_schema
from runner.lab.proxmox.state import ProxmoxTwinState, Vm
from runner.lab.proxmox.tasks import Task
from runner.lab.proxmox.vmconfig import allocate_drive, check_drive_storage, is_drive


def _parse_update(params: Params) -> tuple[dict[str, str], list[str]]:
    skip = {"node", "vmid", "digest", "delete", "revert", "force", "skiplock", "background_delay"}
    changes = {k: as_str(v) for k, v in params.items() if k not in skip}
    deletes = split_list(as_str(params.get("delete", "")))
    if not changes and not deletes and not params.get("revert"):
        raise PveError("no options specified")
    for option in deletes:
        if option in changes:
            raise param_error({"delete": f"you can't use '-{option}' and -delete {option}' at the same time"})
        if option_schema(option) is None:
            raise param_error({"delete": f"unknown option '{option}'"})
    return changes, deletes


def _apply_update(
    state: ProxmoxTwinState, vm: Vm, changes: dict[str, str], deletes: list[str], task: Task | None
) -> None:
    running = vm.status == "running"
    for option in deletes:
        if option not in vm.config and option not in vm.pending:
            if task:
                task.log.append(f"cannot delete '{option}' - not set in current configuration!")
            continue
        vm.pending.pop(option, None)
        if option not in vm.config:
            continue  # only a pending value was set: dropping it is the whole delete (cleanup_pending)
        if running and not deletes_live(option, vm.config):
            if option not in vm.pending_delete:
                vm.pending_delete.append(option)
        else:
            vm.config.pop(option, None)
    for option, value in changes.items():
        if is_drive(option):
            value = allocate_drive(state, vm.vmid, option, value)
        value = normalize_option(option, value)
        if option in vm.pending_delete:
            vm.pending_delete.remove(option)
        if vm.config.get(option) == value:
            vm.pending.pop(option, None)  # cleanup_pending: nothing changed
        elif running and not applies_live(option, value, vm.config):
            vm.pending[option] = value
        else:
            vm.config[option] = value
            vm.pending.pop(option, None)
    if not running:
        apply_pending(vm)  # vmconfig_apply_pending: a stopped VM takes every pending value, older ones too


def update_vm(state: ProxmoxTwinState, params: Params, user: str, sync: bool) -> str | None:
    changes, deletes = _parse_update(params)
    check_update(state.access, user, int(params["vmid"]), changes, deletes)
    vm = load_vm(state, params["vmid"])
    if (digest := params.get("digest")) and digest != vm.digest:
        raise PveError("checksum mismatch (file change by other user?)")
    check_lock(vm)
    for option in sorted(o for o in changes if is_drive(o)):
        check_drive_storage(state, option, changes[option])
    if sync:
        _apply_update(state, vm, changes, deletes, None)
        return None

    def work(task: Task) -> None:
        task.log.append(f"update VM {vm.vmid}: " + " ".join(f"-{k} {v}" for k, v in sorted(changes.items())))
        _apply_update(state, vm, changes, deletes, task)

    return state.tasks.start("qmconfig", str(vm.vmid), user, state.delays.task, work).upid
