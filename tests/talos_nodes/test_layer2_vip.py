"""From Talos v1.12 the VIP Talos holds itself is a Layer2VIPConfig document: the node holds it, and it is never
the kubelet's node IP nor an address etcd advertises (k8s/nodeip_config.go, etcd/config.go @v1.13.9:
`NetworkVirtualIPConfigs()` next to the interfaces' `vip`)."""

from __future__ import annotations

import ipaddress
from typing import Any

from runner.lab.talos.addresses import etcd_advertised, kubelet_node_ips, talos_vips

ADDRESSES = [ipaddress.ip_address("10.0.0.20"), ipaddress.ip_address("10.0.0.11")]  # the holder: VIP listed first


def _config(vip_document: bool) -> list[dict[str, Any]]:
    own = ["10.0.0.0/16"]
    documents: list[dict[str, Any]] = [
        {
            "version": "v1alpha1",
            "machine": {"type": "controlplane", "kubelet": {"nodeIP": {"validSubnets": own}}},
            "cluster": {"etcd": {"advertisedSubnets": own}},
        },
        {"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": "eth0", "addresses": [{"address": "10.0.0.11/16"}]},
    ]
    if vip_document:
        documents.append({"apiVersion": "v1alpha1", "kind": "Layer2VIPConfig", "name": "10.0.0.20", "link": "eth0"})
    return documents


def test_a_layer2_vip_document_is_a_vip_talos_holds() -> None:
    assert talos_vips(_config(True)) == ["10.0.0.20"]
    assert talos_vips(_config(False)) == []


def test_the_layer2_vip_is_neither_the_node_ip_nor_advertised_by_etcd() -> None:
    assert [str(a) for a in kubelet_node_ips(_config(True), ADDRESSES)] == ["10.0.0.11"]
    assert [str(a) for a in etcd_advertised(_config(True), ADDRESSES)] == ["10.0.0.11"]
    # Without the document the VIP is an ordinary address of the holder (kube-vip's, say), and counts.
    assert [str(a) for a in etcd_advertised(_config(False), ADDRESSES)] == ["10.0.0.20", "10.0.0.11"]
