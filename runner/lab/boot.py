"""Which Talos node a lab VM boots: read from the image its disk was imported from.

A real node learns its addresses from META key 0xa baked into its Image Factory image; the lab does the
same: disk -> source image URL -> schematic (from the factory twin) -> META 0xa -> addresses and hostname.
A VM whose image carries no network config gets no address (there is no DHCP in the lab). The VM's NIC gets
the name Talos would give it (from the image's kernel args and the VM's machine type, see talos/links.py); an
address META puts on a link of another name is never brought up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ruamel.yaml import YAML

from runner.lab.imagefactory import FactoryState
from runner.lab.proxmox.state import ProxmoxTwinState, Vm
from runner.lab.talos.links import nic_names

_IMAGE_URL = re.compile(r"/image/(?P<id>[0-9a-f]{64})/(?P<version>v[^/]+)/")
META_NETWORK_KEY = 0x0A


@dataclass(frozen=True)
class BootIdentity:
    ip: str
    hostname: str
    version: str
    links: tuple[str, ...] = ()  # the node's NIC names
    platform_link: str = ""  # the link META 0xa puts the address on


def boot_identity(vm: Vm, proxmox: ProxmoxTwinState, factory: FactoryState) -> BootIdentity | None:
    disk = (vm.config.get("scsi0") or "").split(",")[0]
    volume = proxmox.volume(disk) if disk else None
    match = _IMAGE_URL.search(volume.origin) if volume else None
    if match is None:
        return None
    with factory.lock:
        schematic = factory.schematics.get(match["id"])
    if schematic is None:
        return None
    return image_identity(schematic, str(vm.config.get("machine") or "pc"), match["version"])


def image_identity(schematic: bytes, machine: str, version: str) -> BootIdentity | None:
    """What a VM of `machine` type booting an image of `schematic` comes up as (None: no static address)."""
    yaml = YAML(typ="safe", pure=True)
    doc = yaml.load(schematic) or {}
    customization = doc.get("customization") or {}
    meta = customization.get("meta") or []
    network = next((m.get("value") for m in meta if m.get("key") == META_NETWORK_KEY), None)
    if not network:
        return None
    config = yaml.load(network) or {}
    addresses = [a.get("address", "") for a in config.get("addresses") or []]
    hostnames = [h.get("hostname", "") for h in config.get("hostnames") or []]
    if not addresses or not addresses[0]:
        return None
    ip = str(addresses[0]).split("/")[0]
    links = nic_names(customization.get("extraKernelArgs") or [], machine)
    link = str((config.get("addresses") or [{}])[0].get("linkName", ""))
    return BootIdentity(ip, hostnames[0] if hostnames else "", version, links, link)
