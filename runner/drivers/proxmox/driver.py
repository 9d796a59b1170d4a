"""ProxmoxDriver: the ProxmoxApi over proxmoxer (token auth, HTTPS, UPID tasks awaited)."""

from __future__ import annotations

from typing import Unpack

from runner.core.secret import Secret
from runner.core.state import ImageSpec, ObservedVm, VmSpec
from runner.core.vmdiff import managed_pending
from runner.drivers.proxmox.client import ClientOptions, ProxmoxClient, TaskFailed
from runner.drivers.proxmox.vmconfig import create_params, disk_gb, update_params, vm_config_diff


def _as_str(value: object) -> str:
    return str(int(value)) if isinstance(value, bool) else str(value)


class ProxmoxDriver:
    """Implements `ProxmoxApi`. `url` like https://atlas:8006; `token_id` like root@pam!runner."""

    def __init__(self, url: str, token_id: str, token_secret: Secret, **options: Unpack[ClientOptions]) -> None:
        self.client = ProxmoxClient(url, token_id, token_secret, **options)

    def __repr__(self) -> str:
        return f"ProxmoxDriver({self.client!r})"

    def close(self) -> None:
        self.client.close()

    def list_vms(self) -> list[ObservedVm]:
        rows = self.client.call("GET", "cluster/resources", type="vm")
        return [
            ObservedVm(
                vmid=int(row["vmid"]),
                name=str(row.get("name", "")),
                node=str(row.get("node", "")),
                status=str(row.get("status", "unknown")),
                tags=frozenset(t for t in str(row.get("tags", "")).split(";") if t),
                maxmem=int(row.get("maxmem", 0)),
                maxcpu=int(row.get("maxcpu", 0)),
                maxdisk=int(row.get("maxdisk", 0)),
            )
            for row in rows
            if row.get("type", "qemu") == "qemu"
        ]

    def vm_config(self, node: str, vmid: int) -> dict[str, str]:
        config = self.client.call("GET", f"nodes/{node}/qemu/{vmid}/config")
        return {key: _as_str(value) for key, value in config.items()}

    def pending_changes(self, node: str, vmid: int) -> dict[str, str]:
        """Options waiting for the next boot: {option: pending value, or '' for a pending delete}."""
        rows = self.client.call("GET", f"nodes/{node}/qemu/{vmid}/pending")
        return {
            str(row["key"]): _as_str(row.get("pending", "")) for row in rows if "pending" in row or row.get("delete")
        }

    def list_images(self, node: str, storage: str) -> frozenset[str]:
        rows = self.client.call("GET", f"nodes/{node}/storage/{storage}/content", content="import")
        return frozenset(str(row["volid"]) for row in rows)

    def download_image(self, image: ImageSpec) -> None:
        params: dict[str, str | int] = {"url": image.url, "content": "import", "filename": image.filename}
        if image.checksum:
            params["checksum"] = image.checksum
            params["checksum-algorithm"] = image.checksum_algorithm
        path = f"nodes/{image.node}/storage/{image.storage}/download-url"
        self.client.run_task("POST", path, image.node, **params)

    def create_vm(self, vm: VmSpec) -> None:
        self.client.run_task("POST", f"nodes/{vm.node}/qemu", vm.node, **create_params(vm))
        self._grow_disk(vm, self.vm_config(vm.node, vm.vmid))

    def update_vm(self, vm: VmSpec, current_config: dict[str, str]) -> bool:
        diff = vm_config_diff(vm, current_config)
        params = update_params(vm, diff)
        tags = params.pop("tags", None)
        if params:
            if digest := current_config.get("digest"):
                params["digest"] = digest  # refuse to overwrite a config someone changed since we read it
            self.client.run_task("POST", f"nodes/{vm.node}/qemu/{vm.vmid}/config", vm.node, **params)
        if "disk_gb" in diff:
            self._grow_disk(vm, current_config)
        if managed_pending(self.pending_changes(vm.node, vm.vmid)):
            return True
        # The spec tag says "this VM runs the spec": written only now, so a run stopped before its reboot
        # leaves a tag that differs, and the next run looks at the config and finishes the change.
        if tags is not None:
            self.client.run_task("POST", f"nodes/{vm.node}/qemu/{vm.vmid}/config", vm.node, tags=tags)
        return False

    def _grow_disk(self, vm: VmSpec, config: dict[str, str]) -> None:
        if disk_gb(config) < vm.disk_gb:
            path = f"nodes/{vm.node}/qemu/{vm.vmid}/resize"
            self.client.run_task("PUT", path, vm.node, disk="scsi0", size=f"{vm.disk_gb}G")

    def start_vm(self, node: str, vmid: int) -> None:
        try:
            self.client.run_task("POST", f"nodes/{node}/qemu/{vmid}/status/start", node)
        except TaskFailed as exc:
            if exc.exitstatus != f"VM {vmid} already running":  # starting a running VM is done already
                raise

    def stop_vm(self, node: str, vmid: int) -> None:
        self.client.run_task("POST", f"nodes/{node}/qemu/{vmid}/status/stop", node)

    def reboot_vm(self, node: str, vmid: int) -> None:
        self.client.run_task("POST", f"nodes/{node}/qemu/{vmid}/status/reboot", node)

    def delete_vm(self, node: str, vmid: int) -> None:
        path = f"nodes/{node}/qemu/{vmid}"
        self.client.run_task("DELETE", path, node, **{"purge": 1, "destroy-unreferenced-disks": 1})

    def set_tags(self, node: str, vmid: int, tags: tuple[str, ...], digest: str) -> None:
        """Write only the VM's tags, and only over the config read with `digest`: PVE refuses the write when the
        config changed since (qemu-server PVE/API2/Qemu.pm update_vm, PVE::Tools::assert_if_modified:
        "checksum mismatch (file change by other user?)")."""
        path = f"nodes/{node}/qemu/{vmid}/config"
        self.client.run_task("POST", path, node, tags=";".join(tags), digest=digest)

    # --- read-only inspection (ProxmoxInspect) ---------------------------------------------------------
    def version(self) -> str:
        return str(self.client.call("GET", "version").get("version", ""))

    def permissions(self, path: str) -> dict[str, bool]:
        dump = self.client.call("GET", "access/permissions", path=path)
        return {str(priv): bool(prop) for priv, prop in (dump.get(path) or {}).items()}

    def all_permissions(self) -> dict[str, dict[str, bool]]:
        dump = self.client.call("GET", "access/permissions")
        return {str(path): {str(p): bool(prop) for p, prop in privs.items()} for path, privs in dump.items()}

    def storage_content(self, node: str, storage: str) -> frozenset[str] | None:
        rows = self.client.call("GET", f"nodes/{node}/storage", storage=storage)
        for row in rows:
            if row.get("storage") == storage:
                return frozenset(c for c in str(row.get("content", "")).split(",") if c)
        return None

    def bridges(self, node: str) -> frozenset[str]:
        rows = self.client.call("GET", f"nodes/{node}/network", type="any_bridge")
        return frozenset(str(row["iface"]) for row in rows if row.get("type") in ("bridge", "OVSBridge"))
