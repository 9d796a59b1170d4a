"""The small interface the engine uses to talk to Proxmox VE (so tests and plans can swap the implementation)."""

from __future__ import annotations

from typing import Protocol

from runner.core.state import ImageSpec, ObservedVm, VmSpec


class ProxmoxApi(Protocol):
    def list_vms(self) -> list[ObservedVm]:
        """Every VM of the cluster from ONE `GET /cluster/resources?type=vm`."""
        ...

    def vm_config(self, node: str, vmid: int) -> dict[str, str]:
        """The VM's config with pending changes applied (as PVE shows it), values as strings, incl. `digest`."""
        ...

    def pending_changes(self, node: str, vmid: int) -> dict[str, str]:
        """Options Proxmox holds for the VM's next start (GET .../pending): {option: value, '' to delete}."""
        ...

    def list_images(self, node: str, storage: str) -> frozenset[str]:
        """Volume ids of content type `import` on a storage."""
        ...

    def download_image(self, image: ImageSpec) -> None: ...

    def create_vm(self, vm: VmSpec) -> None: ...

    def update_vm(self, vm: VmSpec, current_config: dict[str, str]) -> bool:
        """Apply cores/memory/onboot/NIC changes and grow the disk; True while a reboot must apply them (also
        ones an earlier, interrupted run sent). The spec tag is written only once nothing of it waits."""
        ...

    def start_vm(self, node: str, vmid: int) -> None: ...

    def stop_vm(self, node: str, vmid: int) -> None: ...

    def reboot_vm(self, node: str, vmid: int) -> None: ...

    def delete_vm(self, node: str, vmid: int) -> None: ...


class ProxmoxInspect(Protocol):
    """Read-only questions `runner doctor` and the apply preflight ask before changing anything."""

    def version(self) -> str:
        """pve-manager's version, e.g. '8.4.1' (GET /version)."""
        ...

    def permissions(self, path: str) -> dict[str, bool]:
        """The token's effective privileges on an ACL path (GET /access/permissions?path=...)."""
        ...

    def all_permissions(self) -> dict[str, dict[str, bool]]:
        """The token's effective privileges on every ACL path where it has any (GET /access/permissions)."""
        ...

    def storage_content(self, node: str, storage: str) -> frozenset[str] | None:
        """Content types a storage is configured for; None when the token cannot see it or it is missing."""
        ...

    def bridges(self, node: str) -> frozenset[str]:
        """Bridges configured on the node (GET /nodes/{node}/network?type=any_bridge)."""
        ...


class ProxmoxTagging(Protocol):
    """`runner adopt --apply`: its only Proxmox write."""

    def set_tags(self, node: str, vmid: int, tags: tuple[str, ...], digest: str) -> None:
        """Replace the VM's tags, only if its config still has `digest`."""
        ...
