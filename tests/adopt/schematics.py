"""The operator's `talos_image_factory_schematic` per node (tests/data/adopt/terraform/schematic.yaml.tftpl),
written by hand from the plain spec file and posted to the Image Factory, which answers with its id: the id is
the factory's, never computed here."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from pathlib import Path
from string import Template
from typing import Any

import httpx

from tests.adopt.terraform import Node

TEMPLATE = Path(__file__).parents[1] / "data/adopt/terraform/schematic.yaml.tftpl"
GUEST_AGENT = ("siderolabs/qemu-guest-agent",)


def schematic(doc: dict[str, Any], node: Node, interface: str, extensions: Sequence[str] = GUEST_AGENT) -> str:
    net = doc["network"]
    prefix = ipaddress.ip_network(net["cidr"]).prefixlen
    servers = "\n".join(f"                - {n}" for n in net["nameservers"])
    return Template(TEMPLATE.read_text()).substitute(
        address=f"{node.ip}/{prefix}",
        interface=interface,
        gateway=net["gateway"],
        hostname=node.name,
        dns_servers=servers,
        extensions=json.dumps(list(extensions)),
    )


def post_schematic(factory_url: str, text: str) -> str:
    """POST /schematics, as the provider's resource does; the factory's id."""
    reply = httpx.post(f"{factory_url}/schematics", content=text, timeout=10)
    reply.raise_for_status()
    return str(reply.json()["id"])
