"""The node's static network in the shape its Talos minor expects.

Up to v1.11 it is `machine.network` of the v1alpha1 document. From v1.12 those fields are deprecated
("Network Configuration", hack/release.toml@v1.12.0) and hidden from the schema; the network is written as
documents of its own (pkg/machinery/config/types/network@v1.12.11):

- HostnameConfig with the static `hostname` (no `auto`: the two conflict, hostname.go Validate);
- LinkConfig naming the NIC, its address and the default route. A default route has no `destination`:
  `0.0.0.0/0` is refused ("route 0 destination must be a valid IP prefix", link.go CommonLinkConfig.Validate);
- ResolverConfig with the nameservers;
- Layer2VIPConfig for the control-plane VIP, on controllers, only when Talos (not kube-vip) owns it.

Either way the values mirror META key 10, which the image boots with, so applying a config never moves a node.
"""

from __future__ import annotations

from typing import Any

from runner.core.talos.node_input import MachineConfigInput


def legacy_network(node: MachineConfigInput) -> dict[str, Any]:
    """`machine.network` (Talos v1.11 and earlier)."""
    interface: dict[str, Any] = {
        "interface": node.interface,
        "addresses": [f"{node.ip}/{node.prefixlen}"],
        "routes": [{"network": "0.0.0.0/0", "gateway": node.gateway}],
    }
    if _talos_vip(node):
        interface["vip"] = {"ip": node.vip}
    return {"hostname": node.name, "interfaces": [interface], "nameservers": list(node.nameservers)}


def network_documents(node: MachineConfigInput) -> list[dict[str, Any]]:
    """The multi-document network configs (Talos v1.12 and later); none before."""
    if not node.contract.multidoc_network:
        return []
    documents: list[dict[str, Any]] = [
        {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "hostname": node.name},
        {
            "apiVersion": "v1alpha1",
            "kind": "LinkConfig",
            "name": node.interface,
            "addresses": [{"address": f"{node.ip}/{node.prefixlen}"}],
            "routes": [{"gateway": node.gateway}],
        },
        {
            "apiVersion": "v1alpha1",
            "kind": "ResolverConfig",
            "nameservers": [{"address": address} for address in node.nameservers],
        },
    ]
    if _talos_vip(node):
        documents.append(
            {"apiVersion": "v1alpha1", "kind": "Layer2VIPConfig", "name": node.vip, "link": node.interface}
        )
    return documents


def _talos_vip(node: MachineConfigInput) -> bool:
    # Talos moves a shared VIP between the controllers only (workers never hold the API server's address).
    return node.vip_owner == "talos" and node.role == "controlplane"
