"""A cluster built without the runner, the way the operator's Terraform built theirs (bpg/proxmox + siderolabs/talos).

It plays that Terraform against the lab's twins through their own doors, never through the runner's planner,
engine or config code:
- the Image Factory twin gets each node's schematic (`talos_image_factory_schematic`; its id comes back from
  the factory), the Proxmox twin downloads the image and creates five untagged VMs with random MACs
  (`proxmox_virtual_environment_vm`), over proxmoxer;
- machine configs come from the tests' own generator (foreign_gen: Talos v1.11.6's rules, as
  terraform-provider-talos v0.9.0 calls them) with the bundle `talos_machine_secrets` made (terraform.py), and
  the operator's patches (tests/data/adopt/terraform): static address, install disk and the factory's
  installer, Talos's own VIP on the controllers' interface, the VIP as the cluster endpoint;
- they are applied in maintenance mode and the first controller bootstrapped through the lab's talosctl
  (`talos_machine_configuration_apply`, `talos_machine_bootstrap`), with the talosconfig of
  `talos_client_configuration`;
- Cilium is installed without Flux, as `helm install cilium -n kube-system` does it through the Kubernetes API: the
  chart's objects (the agent DaemonSet, with Helm's ownership labels and annotations) and the release record in
  Helm's storage (a `sh.helm.release.v1.cilium.v1` Secret in kube-system, gzip, base64).
"""

from __future__ import annotations

import random
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from runner.cli.lab.session import LabSession
from runner.core.derive import derive
from runner.core.schematic import schematic_yaml
from runner.lab.kube.charts import side_effects
from tests import helm_cli
from tests.adopt.terraform import Terraform, spec
from tests.day2.conftest import pve_client
from tests.polling import poll_until

VIP = "10.0.0.20"
CILIUM_VALUES: dict[str, Any] = {  # what the operator passed to `helm install` (as in flux/infrastructure/cni)
    "ipam": {"mode": "kubernetes"},
    "kubeProxyReplacement": True,
    "k8sServiceHost": "localhost",
    "k8sServicePort": 7445,
}


@dataclass(frozen=True)
class ForeignOptions:
    """What the operator's Terraform chose; variations of these are the refusal scenarios."""

    seed: int = 25
    vip_owner: str = "talos"  # Talos's own VIP; "kube-vip": none in the machine config
    endpoint: str = f"https://{VIP}:6443"
    cluster_name: str = "home"
    interface: str = "eth0"
    release_name: str = "cilium"
    release_namespace: str = "kube-system"
    cilium_values: dict[str, Any] = field(default_factory=lambda: dict(CILIUM_VALUES))
    bios: str = "ovmf"


@dataclass
class Foreign:
    macs: dict[str, str]  # node name -> the MAC Terraform's provider picked
    talosconfig: Path
    terraform: Terraform


def _wait_task(pve: Any, node: str, upid: str) -> None:
    def done() -> bool:
        status = pve.nodes(node).tasks(upid).status.get()
        if status.get("status") == "stopped":
            assert status.get("exitstatus") == "OK", status
            return True
        return False

    poll_until(done, f"task {upid}", timeout=60, interval=0.05)


def _random_mac(rng: random.Random) -> str:
    octets = [rng.randrange(256) for _ in range(6)]
    octets[0] = 0xBC  # the prefix Proxmox gives a NIC without a MAC (BC:24:11), as the provider leaves it
    octets[1], octets[2] = 0x24, 0x11
    return ":".join(f"{o:02X}" for o in octets)


def _talosctl(session: LabSession, *args: str, talosconfig: Path | None = None) -> str:
    cmd = [str(session.world.talosctl), *args]
    if talosconfig is not None:
        cmd[1:1] = ["--talosconfig", str(talosconfig)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _factory_host(url: str) -> str:
    return url.removeprefix("https://").removeprefix("http://").rstrip("/")


def build_foreign(session: LabSession, terraform: Terraform, opts: ForeignOptions | None = None) -> Foreign:
    opts = opts or ForeignOptions()
    rng = random.Random(opts.seed)
    cluster = session.cluster
    desired = derive(cluster)
    world = session.world
    pve = pve_client(session)
    node = cluster.proxmox.node
    macs: dict[str, str] = {}
    installers: dict[str, str] = {}
    doc = spec(session.repo_root / "clusters/home/cluster.yaml")  # what the operator wrote, read as plain YAML
    factory_host = _factory_host(doc["imageFactory"]["url"])
    # --- Proxmox: image per schematic, then the VMs (no tags: nothing marks them as anyone's) ---------------
    for dn in desired.nodes:
        # The image carries the node's static network in META, which the schematic id hashes: the operator's
        # schematic is the one their spec describes (a different one would be a reboot-needing upgrade).
        reply = httpx.post(f"{world.factory.url}/schematics", content=schematic_yaml(dn.schematic), timeout=10)
        reply.raise_for_status()
        schematic_id = reply.json()["id"]
        version = doc["talos"]["version"]
        installers[dn.name] = f"{factory_host}/metal-installer/{schematic_id}:{version}"  # talos_image_factory_urls
        image = dn.vm.image
        upid = (
            pve.nodes(node)
            .storage(image.storage)("download-url")
            .post(
                url=f"{world.factory.url}/image/{schematic_id}/{version}/metal-amd64.qcow2",
                content="import",
                filename=image.filename,
            )
        )
        _wait_task(pve, node, upid)
        macs[dn.name] = _random_mac(rng)
        params: dict[str, Any] = {
            "vmid": dn.vm.vmid,
            "name": dn.name,
            "machine": "q35",
            "bios": opts.bios,
            "scsihw": "virtio-scsi-single",
            "scsi0": f"{dn.vm.storage}:0,import-from={image.volid},discard=on,iothread=1",
            "net0": f"virtio={macs[dn.name]},bridge={dn.vm.bridge}",
            "cpu": "host",
            "cores": dn.vm.cores,
            "memory": str(dn.vm.memory),
            "agent": "enabled=1",
            "onboot": 1,
            "serial0": "socket",
            "ostype": "l26",
            "boot": "order=scsi0",
        }
        if opts.bios == "ovmf":
            params["efidisk0"] = f"{dn.vm.storage}:1,efitype=4m,pre-enrolled-keys=0"
        _wait_task(pve, node, pve.nodes(node).qemu.post(**params))
        _wait_task(pve, node, pve.nodes(node).qemu(dn.vm.vmid).resize.put(disk="scsi0", size=f"{dn.vm.disk_gb}G"))
        _wait_task(pve, node, pve.nodes(node).qemu(dn.vm.vmid).status.start.post())
    # --- Talos: maintenance mode -> configs -> bootstrap ------------------------------------------------------
    lab = world.talos.lab

    def phases(wanted: str) -> bool:
        with lab.lock:
            return all((n := lab.nodes.get(dn.ip)) is not None and n.phase == wanted for dn in desired.nodes)

    poll_until(lambda: phases("maintenance"), "foreign nodes in maintenance mode", timeout=60, interval=0.1)
    workdir = Path(tempfile.mkdtemp(prefix="foreign-"))
    configs = terraform.configs(
        doc,
        installers,
        endpoint=opts.endpoint,
        cluster_name=opts.cluster_name,
        interface=opts.interface,
        talos_vip=opts.vip_owner == "talos",
    )
    for ip, text in configs.items():
        path = workdir / f"{ip}.yaml"
        path.write_text(text)
        _talosctl(session, "apply-config", "--insecure", "--nodes", ip, "--file", str(path))
        path.unlink()  # the config holds the cluster's keys: no plaintext copy stays behind
    poll_until(lambda: phases("running"), "foreign nodes running", timeout=60, interval=0.1)
    first = desired.controllers[0].ip
    talosconfig = workdir / "talosconfig"
    talosconfig.write_text(terraform.talosconfig([c.ip for c in desired.controllers]))
    _talosctl(session, "bootstrap", "--nodes", first, "--endpoints", first, talosconfig=talosconfig)
    poll_until(lambda: lab.has_quorum(next(iter(lab.etcd))), "etcd quorum", timeout=60, interval=0.1)
    poll_until(lambda: len(world._joined) == len(desired.nodes), "kubelets registered", timeout=60, interval=0.1)
    _helm_install(session, opts, talosconfig, first)
    return Foreign(macs, talosconfig, terraform)


def _helm_install(session: LabSession, opts: ForeignOptions, talosconfig: Path, first: str) -> None:
    """`helm install <release> cilium/cilium --version 1.16.5 -n <namespace>` with the kubeconfig Talos hands out
    (`talos_cluster_kubeconfig`): the chart's objects through the Kubernetes API, with Helm's ownership metadata,
    and the release record in Helm's Secret storage."""
    kubeconfig = talosconfig.parent / "kubeconfig"
    _talosctl(session, "kubeconfig", str(kubeconfig), "--nodes", first, "--endpoints", first, talosconfig=talosconfig)
    api = helm_cli.client(kubeconfig.read_text(), session.world.kube.url)
    try:
        rendered = side_effects(
            "cilium", "1.16.5", opts.cilium_values, opts.release_namespace, frozenset(), opts.release_name
        )
        helm_cli.helm_install(
            api, opts.release_name, opts.release_namespace, "cilium", "1.16.5", opts.cilium_values, rendered
        )
    finally:
        api.close()
    session.world.kube_twin.cluster.set_cni_ready()  # the Cilium agents run on every node
