"""The Proxmox calls Proxmox CSI's controller makes, over HTTP with its own API token.

From proxmox-csi-plugin v0.19.1 pkg/csi/controller.go (CreateVolume, ControllerPublishVolume), pkg/csi/utils.go
(createVolume, getStorageContent, attachVolume, isVolumeAttached), pkg/proxmoxpool/pool.go (FindVMByNode) and
sergelogvinov/go-proxmox v0.2.0 (storage.go, virtual_machine_disk.go, virtual_machine.go):
- the storage must be listed as available on the zone (GET /cluster/resources?type=storage);
- GET /nodes/{zone}/storage/{storage}/status, then .../content: an existing volume is reused;
- POST /nodes/{zone}/storage/{storage}/content {vmid, filename, size in KiB} allocates it;
- the node's VM: a qemu VM whose name starts with the node's name and whose smbios1 uuid is the node's
  systemUUID (GET /cluster/resources?type=vm, then each VM's status/current and config);
- attach: the first free scsi1..scsi29 gets `<storage>:<disk>,wwn=0x<hex of "PVC-ID<lun>">` through
  POST /nodes/{node}/qemu/{vmid}/config (a task); the disk counts as attached once the config shows it;
- detach: `PUT /nodes/{node}/qemu/{vmid}/unlink` {idlist: scsiN, force: 0} (go-proxmox UnlinkDisk).
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Callable
from typing import Any

import httpx

CONTROLLER_VMID = 9999


class ProxmoxCallFailed(Exception):
    pass


class CsiProxmoxClient:
    def __init__(self, cluster: dict[str, Any], resolve: Callable[[str], str], ca_bundle: str | None) -> None:
        base = resolve(str(cluster.get("url", "")).rstrip("/"))
        verify: Any = (
            False if cluster.get("insecure") else (ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True)
        )
        token = f"PVEAPIToken={cluster.get('token_id', '')}={cluster.get('token_secret', '')}"
        self.http = httpx.Client(base_url=base, verify=verify, headers={"Authorization": token}, timeout=10)

    def _call(self, method: str, path: str, **params: Any) -> Any:
        if method == "GET":
            response = self.http.get(path, params=params)
        else:
            response = self.http.request(method, path, data=params)
        if response.status_code >= 400:
            raise ProxmoxCallFailed(f"{response.status_code} {response.reason_phrase}")
        return response.json().get("data")

    def close(self) -> None:
        self.http.close()

    def create_volume(self, zone: str, storage: str, name: str, size_bytes: int) -> str:
        try:
            rows = self._call("GET", "/cluster/resources", type="storage")
            if not any(
                r.get("storage") == storage and r.get("node") == zone and r.get("status") == "available" for r in rows
            ):
                raise ProxmoxCallFailed(f"failed to get proxmox storage config: storage {storage} not found")
            self._call("GET", f"/nodes/{zone}/storage/{storage}/status")
            volid = f"{storage}:{name}"
            if any(c.get("volid") == volid for c in self._call("GET", f"/nodes/{zone}/storage/{storage}/content")):
                return name
            made = str(
                self._call("POST", f"/nodes/{zone}/storage/{storage}/content", vmid=CONTROLLER_VMID, node=zone,
                           storage=storage, filename=name, size=str(size_bytes // 1024))
            )  # fmt: skip
            return made.partition(":")[2] or name
        finally:
            self.close()

    def attach_volume(self, node: str, system_uuid: str, storage: str, disk: str) -> bool:
        """True once the disk is on the VM; False while the attach task runs."""
        try:
            vm = self._find_vm(node, system_uuid)
            path = f"/nodes/{vm['node']}/qemu/{vm['vmid']}/config"
            config = self._call("GET", path)
            scsi = {k: str(v) for k, v in config.items() if re.fullmatch(r"scsi\d+", k)}
            if any(disk in v for v in scsi.values()):
                return True
            lun = next(n for n in range(1, 30) if f"scsi{n}" not in scsi)
            wwn = f"PVC-ID{lun:02d}".encode().hex()
            upid = self._call("POST", path, **{f"scsi{lun}": f"{storage}:{disk},wwn=0x{wwn}"})
            # The plugin waits for the config task before it answers (the LUN is its publish context): a second
            # attach while the first task runs would pick another LUN and re-add the disk after a detach.
            return self._wait(vm["node"], str(upid)) if upid else False
        finally:
            self.close()

    def _wait(self, node: str, upid: str, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self._call("GET", f"/nodes/{node}/tasks/{upid}/status") or {}
            if status.get("status") == "stopped":
                if status.get("exitstatus") != "OK":
                    raise ProxmoxCallFailed(f"task {upid} failed: {status.get('exitstatus')}")
                return True
            time.sleep(0.05)
        return False

    def detach_volume(self, node: str, system_uuid: str, disk: str) -> None:
        """ControllerUnpublishVolume: `PUT .../unlink` of the scsi slot holding the disk (detachVolume)."""
        try:
            vm = self._find_vm(node, system_uuid)
            base = f"/nodes/{vm['node']}/qemu/{vm['vmid']}"
            config = self._call("GET", f"{base}/config")
            lun = next((k for k, v in config.items() if re.fullmatch(r"scsi\d+", k) and disk in str(v)), None)
            if lun is not None:
                self._call("PUT", f"{base}/unlink", idlist=lun, force=0)
        finally:
            self.close()

    def _find_vm(self, node: str, system_uuid: str) -> dict[str, Any]:
        for row in self._call("GET", "/cluster/resources", type="vm"):
            if row.get("type") != "qemu" or not str(row.get("name", "")).startswith(node):
                continue
            base = f"/nodes/{row['node']}/qemu/{row['vmid']}"
            self._call("GET", f"{base}/status/current")
            smbios = str(self._call("GET", f"{base}/config").get("smbios1", ""))
            if f"uuid={system_uuid}" in smbios.split(","):
                return dict(row)
        raise ProxmoxCallFailed(f"failed to get vm ref by nodeID {node}: instance not found")
