"""A Proxmox twin for the Kubernetes twin's CSI controller: the README's host preparation (the runner's
token and Proxmox CSI's own), one running VM per node with its SMBIOS UUID, and the CSI's cloud config as
the Flux tree holds it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runner.drivers.sops import SopsCli
from runner.lab.kube.storage_charts import CSI_CONFIG
from runner.lab.proxmox import ProxmoxTwin, serve_proxmox_twin
from runner.lab.proxmox.host_setup import HostPlan, prepare_csi, prepare_host
from runner.lab.proxmox.state import ProxmoxTwinState

from .gitrepo import PROJECT

NODES = {
    "talos-cp-01": ("10.0.0.11", "controlplane", 300),
    "talos-cp-02": ("10.0.0.12", "controlplane", 301),
    "talos-cp-03": ("10.0.0.13", "controlplane", 302),
    "talos-worker-01": ("10.0.0.21", "worker", 303),
    "talos-worker-02": ("10.0.0.22", "worker", 304),
}
TOPOLOGY = {"topology.kubernetes.io/region": "atlas", "topology.kubernetes.io/zone": "atlas"}


def csi_config() -> dict[str, Any]:
    """The first cluster of the CSI's cloud config in the Flux tree (opened with the lab's Flux key)."""
    sops = SopsCli(age_key_file=PROJECT / "tests/keys/flux-lab.agekey")
    doc = sops.decrypt((PROJECT / CSI_CONFIG).read_bytes(), CSI_CONFIG)
    config: dict[str, Any] = YAML(typ="safe").load(doc["stringData"]["config.yaml"])
    return dict(config["clusters"][0])


@dataclass
class PveLab:
    twin: ProxmoxTwin
    uuids: dict[str, str]  # node -> its VM's smbios1 uuid

    @property
    def state(self) -> ProxmoxTwinState:
        return self.twin.state

    def endpoints(self) -> dict[str, str]:
        return {"https://atlas:8006": self.twin.url.rstrip("/")}


def start_pve(cert_dir: Path) -> Iterator[PveLab]:
    state = ProxmoxTwinState(node="atlas")
    prepare_host(state, HostPlan(), "runner-token-secret")
    csi = csi_config()
    prepare_csi(state, csi["token_id"], "local-lvm", csi["token_secret"])
    uuids = {}
    for name, (_ip, _role, vmid) in NODES.items():
        vm = state.add_foreign_vm(vmid, name, running=True)
        uuids[name] = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.smbios.lab"))
        vm.config["smbios1"] = f"uuid={uuids[name]}"
    twin = serve_proxmox_twin(state, cert_dir)
    try:
        yield PveLab(twin, uuids)
    finally:
        twin.stop()
