"""A cluster built without the runner, the way the operator's Terraform built theirs (bpg/proxmox + siderolabs/talos).

It plays that Terraform against the lab's twins through their own doors, never through the runner's planner,
engine or config code:
- the Image Factory twin gets each node's schematic as the operator wrote it (`talos_image_factory_schematic`,
  schematics.py; its id comes back from the factory), the Proxmox twin downloads the image and creates five
  untagged VMs whose MACs Proxmox picks, from the operator's `proxmox_virtual_environment_vm` resources
  (tests/data/adopt/terraform/vms.yaml) as the bpg/proxmox provider sends them (bpg.py), over proxmoxer; the
  MACs are then read off Proxmox, as the operator does to pin them in the spec;
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

import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.cli.lab.session import LabSession
from runner.lab.kube.charts import side_effects
from tests import helm_cli
from tests.adopt import bpg
from tests.adopt.schematics import GUEST_AGENT, post_schematic, schematic
from tests.adopt.terraform import Terraform, nodes, spec
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

    vip_owner: str = "talos"  # Talos's own VIP; "kube-vip": none in the machine config
    endpoint: str = f"https://{VIP}:6443"
    cluster_name: str = "home"
    interface: str = "eth0"
    release_name: str = "cilium"
    release_namespace: str = "kube-system"
    cilium_values: dict[str, Any] = field(default_factory=lambda: dict(CILIUM_VALUES))
    # Nodes whose schematic the operator wrote without the guest agent (a schematic the spec does not describe).
    bare_nodes: frozenset[str] = frozenset()


@dataclass
class Foreign:
    macs: dict[str, str]  # node name -> the MAC Proxmox gave its NIC (read off Proxmox)
    talosconfig: Path
    terraform: Terraform
    schematics: dict[str, str]  # node name -> the factory's id of the schematic its image was built from
    images: dict[str, str]  # node name -> the volid of the image its VM imported (the download's id)
    resources: dict[str, dict[str, Any]]  # node name -> its proxmox_virtual_environment_vm resource


def _wait_task(pve: Any, node: str, upid: str) -> None:
    def done() -> bool:
        status = pve.nodes(node).tasks(upid).status.get()
        if status.get("status") == "stopped":
            assert status.get("exitstatus") == "OK", status
            return True
        return False

    poll_until(done, f"task {upid}", timeout=60, interval=0.05)


def _talosctl(session: LabSession, *args: str, talosconfig: Path | None = None) -> str:
    cmd = [str(session.world.talosctl), *args]
    if talosconfig is not None:
        cmd[1:1] = ["--talosconfig", str(talosconfig)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _mac(net0: str) -> str:
    """The MAC of `virtio=BC:24:11:..,bridge=vmbr0` (PVE prints the model with its MAC first)."""
    return net0.split(",", 1)[0].partition("=")[2].upper()


def _factory_host(url: str) -> str:
    return url.removeprefix("https://").removeprefix("http://").rstrip("/")


def build_foreign(session: LabSession, terraform: Terraform, opts: ForeignOptions | None = None) -> Foreign:
    opts = opts or ForeignOptions()
    world = session.world
    pve = pve_client(session)
    doc = spec(session.repo_root / "clusters/home/cluster.yaml")  # what the operator wrote, read as plain YAML
    version = str(doc["talos"]["version"])
    factory_host = _factory_host(doc["imageFactory"]["url"])
    tf = bpg.resources(factory=world.factory.url, talos_version=version)
    by_name = {vm["name"]: vm for vm in tf["vms"]}
    all_nodes = nodes(doc)
    installers: dict[str, str] = {}
    schematics: dict[str, str] = {}
    images: dict[str, str] = {}
    # --- Proxmox: image per schematic, then the VMs (no tags: nothing marks them as anyone's) ---------------
    for node in all_nodes:
        # The image carries the node's static network in META, which the schematic id hashes.
        extensions = () if node.name in opts.bare_nodes else GUEST_AGENT
        schematic_id = post_schematic(world.factory.url, schematic(doc, node, opts.interface, extensions))
        schematics[node.name] = schematic_id
        installers[node.name] = f"{factory_host}/metal-installer/{schematic_id}:{version}"  # talos_image_factory_urls
        values = {"schematic_id": schematic_id, "name": node.name}
        pve_node, datastore, form = bpg.download_params(tf["download_file"], **values)
        _wait_task(pve, pve_node, pve.nodes(pve_node).storage(datastore)("download-url").post(**form))
        vm = by_name[node.name]
        images[node.name] = bpg.download_id(tf["download_file"], **values)
        params = bpg.vm_create_params(vm, images[node.name])
        vmid, pve_node = vm["vm_id"], vm["node_name"]
        _wait_task(pve, pve_node, pve.nodes(pve_node).qemu.post(**params))
        for resize in bpg.resizes(vm):
            _wait_task(pve, pve_node, pve.nodes(pve_node).qemu(vmid).resize.put(**resize))
        if vm.get("started", True):
            _wait_task(pve, pve_node, pve.nodes(pve_node).qemu(vmid).status.start.post())
    # The MACs as the operator reads them off Proxmox (`qm config <vmid>`, net0) to pin them in the spec.
    macs = {
        name: _mac(pve.nodes(vm["node_name"]).qemu(vm["vm_id"]).config.get()["net0"]) for name, vm in by_name.items()
    }
    # --- Talos: maintenance mode -> configs -> bootstrap ------------------------------------------------------
    lab = world.talos.lab

    def phases(wanted: str) -> bool:
        with lab.lock:
            return all((n := lab.nodes.get(node.ip)) is not None and n.phase == wanted for node in all_nodes)

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
    controllers = [node.ip for node in all_nodes if node.role == "controlplane"]
    first = controllers[0]
    talosconfig = workdir / "talosconfig"
    talosconfig.write_text(terraform.talosconfig(controllers))
    _talosctl(session, "bootstrap", "--nodes", first, "--endpoints", first, talosconfig=talosconfig)
    poll_until(lambda: lab.has_quorum(next(iter(lab.etcd))), "etcd quorum", timeout=60, interval=0.1)
    poll_until(lambda: len(world._joined) == len(all_nodes), "kubelets registered", timeout=60, interval=0.1)
    _helm_install(session, opts, talosconfig, first)
    return Foreign(macs, talosconfig, terraform, schematics, images, by_name)


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
