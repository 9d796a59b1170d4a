"""The operator's Terraform (siderolabs/talos provider), played without the runner's code: `talos_machine_secrets`,
`talos_machine_configuration` per node with the operator's patches, `talos_client_configuration`.

The node list and network come from the plain spec file the adoption tests use (tests/data/adopt/cluster.yaml,
read as YAML, not through the runner); the patches are the templates of tests/data/adopt/terraform/.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from ruamel.yaml import YAML

from tests.adopt.foreign_gen import client_configuration, machine_configuration, machine_secrets

DATA = Path(__file__).parents[1] / "data/adopt"
SPEC = DATA / "cluster.yaml"
PATCHES = DATA / "terraform"
CREATED = datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.UTC)  # when the operator ran `terraform apply`


def spec(path: Path = SPEC) -> dict[str, Any]:
    return dict(YAML(typ="safe", pure=True).load(path.read_text()))


def spec_text(talos: str = "v1.11.6", kubernetes: str = "v1.34.1") -> str:
    """The spec file, on another Talos and Kubernetes (the same cluster at another version)."""
    text = SPEC.read_text()
    return text.replace("version: v1.11.6", f"version: {talos}").replace("version: v1.34.1", f"version: {kubernetes}")


@dataclass(frozen=True)
class Node:
    name: str
    role: str
    ip: str
    vmid: int


def nodes(doc: dict[str, Any]) -> list[Node]:
    return [Node(n["name"], n["role"], n["ip"], int(n["vmid"])) for n in doc["nodes"]]


@dataclass
class Terraform:
    """What the operator's state holds once `terraform apply` has run."""

    secrets: dict[str, Any]  # talos_machine_secrets.this.machine_secrets
    client: dict[str, str]  # talos_machine_secrets.this.client_configuration

    @classmethod
    def apply(cls) -> Terraform:
        secrets = machine_secrets(CREATED)
        return cls(secrets, client_configuration(secrets, CREATED))

    def secret_values(self) -> set[str]:
        """Every secret string of the bundle (and its decoded PEM), to check none is ever shown."""
        out: set[str] = set()

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                for v in value.values():
                    walk(v)
            elif isinstance(value, str) and len(value) >= 16:
                out.add(value)

        walk(self.secrets)
        return out

    def talosconfig(self, endpoints: list[str], context: str = "terraform") -> str:
        """`talos_client_configuration`'s talos_config."""
        return json.dumps(
            {
                "context": context,
                "contexts": {
                    context: {
                        "endpoints": endpoints,
                        "nodes": endpoints,
                        "ca": self.client["ca_certificate"],
                        "crt": self.client["client_certificate"],
                        "key": self.client["client_key"],
                    }
                },
            }
        )

    def configs(
        self,
        doc: dict[str, Any],
        installer: dict[str, str],
        *,
        endpoint: str,
        cluster_name: str,
        interface: str,
        talos_vip: bool,
    ) -> dict[str, str]:
        """node ip -> machine_configuration, for every node of the spec (installer: node name -> image)."""
        net = doc["network"]
        network = ipaddress.ip_network(net["cidr"])
        vip = str(net["vip"])
        controllers = [n.ip for n in nodes(doc) if n.role == "controlplane"]
        own = [str(network), f"!{vip}/32"]
        talos = str(doc["talos"]["version"])
        multidoc = int(talos.removeprefix("v").split(".")[1]) > 11  # the network as documents from v1.12
        suffix = "-multidoc" if multidoc else ""
        out: dict[str, str] = {}
        for node in nodes(doc):
            values = {
                "hostname": node.name,
                "interface": interface,
                "address": f"{node.ip}/{network.prefixlen}",
                "gateway": net["gateway"],
                "nameservers": json.dumps([str(n) for n in net["nameservers"]]),
                "resolvers": json.dumps([{"address": str(n)} for n in net["nameservers"]]),
                "install_disk": doc["talos"]["installDisk"],
                "installer_image": installer[node.name],
                "machine_sans": json.dumps(list(dict.fromkeys([vip, *controllers, node.ip]))),
                "own_subnets": json.dumps(own),
                "api_sans": json.dumps(controllers),
                "zone": doc["proxmox"]["node"],
                "vip": vip,
            }
            templates = [f"node{suffix}.yaml.tftpl"]
            if node.role == "controlplane":
                templates.append("controlplane.yaml.tftpl")
                if talos_vip:
                    templates.append(f"vip{suffix}.yaml.tftpl")
            patches = [Template((PATCHES / t).read_text()).substitute(values) for t in templates]
            kubernetes = str(doc["kubernetes"]["version"])
            out[node.ip] = machine_configuration(
                node.role, self.secrets, cluster_name, endpoint, kubernetes, patches, talos
            )
        return out


def pem(value: str) -> bytes:
    return base64.b64decode(value)
