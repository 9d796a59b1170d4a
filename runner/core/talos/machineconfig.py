"""Per-node Talos machine configs, built like `talosctl gen config --talos-version` (pkg/machinery/config/generate).

The v1alpha1 document has the fields and order of the generator of the node's Talos minor for a controlplane
or a worker (golden files: pkg/machinery/config/types/v1alpha1/testdata/stability/v1.1x), plus this
cluster's choices; what differs per minor is the version contract (contract.py). Deliberate differences
from a bare `talosctl gen config`:

- `persist` is left out: deprecated ("not supported anymore", `docgen:nodoc`, so absent from the JSON schemas).
  Except on an adopted cluster (`persist=True`): Talos's generator writes `persist: true` (init.go, worker.go
  at v1.11.6, v1.12.11, v1.13.9), and machined's CanApplyImmediate compares the whole v1alpha1 document
  bar its listed fields, `persist` not among them, so dropping it could only be applied with a reboot.
- Static networking (hostname, address, default route, resolvers) mirrors the META key 10 the image
  boots with, so applying the config does not move the node: `machine.network` up to v1.11, the
  multi-document network configs from v1.12 (network_documents.py).
- The control-plane VIP is Talos's only when `vip_owner` says so; by default kube-vip holds it and two
  owners of one address would fight over it. The VIP still goes into every certSANs list.
- `cni: none` and `proxy.disabled`: Cilium (installed by Flux) is the CNI and replaces kube-proxy.
- kubelet `nodeIP.validSubnets` and etcd `advertisedSubnets` pin both to the node network, so the
  tailscale interface is never picked, and then exclude the VIP (`!<vip>/32`, last: a `!` only removes
  what an earlier subnet picked). Talos leaves out only a VIP it manages itself; kube-vip's /32 on the
  leader's link is an ordinary address to it, which etcd would advertise and the kubelet could take.

Secret values stay `Secret` objects in the returned documents; `render_machine_config` reveals them.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from runner.core.secret import Secret
from runner.core.talos.network_documents import legacy_network, network_documents
from runner.core.talos.node_input import MachineConfigInput
from runner.core.talos.secrets_bundle import CertAndKey, SecretsBundle

KUBELET_IMAGE = "ghcr.io/siderolabs/kubelet"
APISERVER_IMAGE = "registry.k8s.io/kube-apiserver"
CONTROLLER_MANAGER_IMAGE = "registry.k8s.io/kube-controller-manager"
SCHEDULER_IMAGE = "registry.k8s.io/kube-scheduler"
PROXY_IMAGE = "registry.k8s.io/kube-proxy"
KUBEPRISM_PORT = 7445  # constants.DefaultKubePrismPort; Cilium's k8sServicePort points here
EXCLUDE_FROM_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"

# Talos's default PodSecurity admission config and audit policy (init.go / v1alpha1_apiserverconfig.go).
POD_SECURITY_ADMISSION = {
    "name": "PodSecurity",
    "configuration": {
        "apiVersion": "pod-security.admission.config.k8s.io/v1alpha1",
        "defaults": {
            "audit": "restricted",
            "audit-version": "latest",
            "enforce": "baseline",
            "enforce-version": "latest",
            "warn": "restricted",
            "warn-version": "latest",
        },
        "exemptions": {"namespaces": ["kube-system"], "runtimeClasses": [], "usernames": []},
        "kind": "PodSecurityConfiguration",
    },
}
AUDIT_POLICY = {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "Metadata"}]}


def _own_addresses(node: MachineConfigInput) -> list[str]:
    """Which addresses are the node's own: its network without the VIP (siderolabs/net FilterIPs order)."""
    return [str(node.network), f"!{node.vip}/32"]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _ca(pair: CertAndKey, *, with_key: bool) -> dict[str, Any]:
    # Workers get the certificate only; Talos writes the empty key as `key: ""`.
    return {"crt": _b64(pair.crt), "key": _b64_secret(pair.key) if with_key else ""}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("ascii")).decode("ascii")


def _b64_secret(secret: Secret) -> Secret:
    return Secret(_b64(secret.reveal()))


def _machine(node: MachineConfigInput, bundle: SecretsBundle) -> dict[str, Any]:
    controlplane = node.role == "controlplane"
    contract = node.contract
    machine: dict[str, Any] = {
        "type": node.role,
        "token": bundle.trustd_info.token,
        "ca": _ca(bundle.certs.os, with_key=controlplane),
        "certSANs": _unique([node.vip, *node.controller_ips, node.ip]),
        "kubelet": {
            "image": f"{KUBELET_IMAGE}:{node.kubernetes_tag}",
            "defaultRuntimeSeccompProfileEnabled": True,
            "disableManifestsDirectory": True,
            "nodeIP": {"validSubnets": _own_addresses(node)},
        },
        "network": legacy_network(node),
        "install": {"disk": node.install_disk, "image": node.installer_image, "wipe": False},
        "features": {
            "rbac": True,
            "stableHostname": True,
            "apidCheckExtKeyUsage": True,
            "diskQuotaSupport": True,
            "kubePrism": {"enabled": True, "port": KUBEPRISM_PORT},
            "hostDNS": {"enabled": True, "forwardKubeDNSToHost": True},
        },
    }
    # What the node's minor dropped or added (contract.py); the rest of the section is the same for all.
    if contract.multidoc_network:
        del machine["network"]
    if contract.grub_use_uki_cmdline:
        machine["install"]["grubUseUKICmdline"] = True
    if not contract.stable_hostname_feature:
        del machine["features"]["stableHostname"]
    if contract.hide_rbac_and_key_usage:
        del machine["features"]["rbac"], machine["features"]["apidCheckExtKeyUsage"]
    if controlplane:
        machine["nodeLabels"] = {EXCLUDE_FROM_LB_LABEL: ""}
    if node.node_labels:
        machine["nodeLabels"] = {**machine.get("nodeLabels", {}), **dict(node.node_labels)}
    return machine


def _cluster(node: MachineConfigInput, bundle: SecretsBundle) -> dict[str, Any]:
    controlplane = node.role == "controlplane"
    contract = node.contract
    cluster: dict[str, Any] = {
        "id": bundle.cluster.id,
        "secret": bundle.cluster.secret,
        "controlPlane": {"endpoint": node.cluster_endpoint},
        "clusterName": node.cluster_name,
        "network": {
            "cni": {"name": "none"},
            "dnsDomain": node.dns_domain,
            "podSubnets": list(node.pod_subnets),
            "serviceSubnets": list(node.service_subnets),
        },
        "token": bundle.secrets.bootstrap_token,
    }
    if not controlplane:
        cluster["ca"] = _ca(bundle.certs.k8s, with_key=False)
        cluster["proxy"] = {"disabled": True}
        cluster["discovery"] = _discovery()
        return cluster
    if bundle.secrets.secretbox_encryption_secret:
        cluster["secretboxEncryptionSecret"] = bundle.secrets.secretbox_encryption_secret
    elif bundle.secrets.aescbc_encryption_secret:
        cluster["aescbcEncryptionSecret"] = bundle.secrets.aescbc_encryption_secret
    tag = node.kubernetes_tag
    cluster |= {
        "ca": _ca(bundle.certs.k8s, with_key=True),
        "aggregatorCA": _ca(bundle.certs.k8s_aggregator, with_key=True),
        "serviceAccount": {"key": _b64_secret(bundle.certs.k8s_service_account)},
        "apiServer": {
            "image": f"{APISERVER_IMAGE}:{tag}",
            # GetAPIServerSANs: the endpoint's host first, then the additional SANs.
            "certSANs": _unique([node.endpoint_host, node.vip, *node.controller_ips]),
            "disablePodSecurityPolicy": True,
            "admissionControl": [copy.deepcopy(POD_SECURITY_ADMISSION)],
            "auditPolicy": copy.deepcopy(AUDIT_POLICY),
        },
        "controllerManager": {"image": f"{CONTROLLER_MANAGER_IMAGE}:{tag}"},
        "proxy": {"disabled": True, "image": f"{PROXY_IMAGE}:{tag}"},
        "scheduler": {"image": f"{SCHEDULER_IMAGE}:{tag}"},
        "discovery": _discovery(),
        "etcd": {
            "ca": _ca(bundle.certs.etcd, with_key=True),
            "advertisedSubnets": _own_addresses(node),
        },
    }
    api_server = cluster["apiServer"]
    if not contract.populate_cluster_sans_from_endpoint:  # Talos adds the endpoint's host itself from v1.12
        api_server["certSANs"] = _unique([node.vip, *node.controller_ips])
    if contract.hide_disable_psp:
        del api_server["disablePodSecurityPolicy"]
    return cluster


def _discovery() -> dict[str, Any]:
    # Talos >= 1.2 disables the Kubernetes registry and keeps the discovery service.
    return {"enabled": True, "registries": {"kubernetes": {"disabled": True}, "service": {}}}


def tailscale_extension_config(node: MachineConfigInput) -> dict[str, Any] | None:
    """The siderolabs/tailscale `ExtensionServiceConfig`, or None when the node has no auth key.

    The extension runs containerboot, configured by environment: TS_AUTHKEY logs in, TS_HOSTNAME
    names the node in the tailnet, TS_EXTRA_ARGS is passed to `tailscale up` (the headscale URL).
    TS_AUTH_ONCE: without it containerboot logs in with the key at every start (each boot), and a
    single-use key is refused from the second boot on (siderolabs/extensions network/tailscale/README.md).
    """
    if node.tailscale_auth_key is None or not node.tailscale_auth_key:
        return None
    environment: list[str | Secret] = [
        Secret(f"TS_AUTHKEY={node.tailscale_auth_key.reveal()}"),
        f"TS_HOSTNAME={node.name}",
        "TS_AUTH_ONCE=true",
    ]
    if node.tailscale_login_server:
        environment.append(f"TS_EXTRA_ARGS=--login-server={node.tailscale_login_server}")
    return {"apiVersion": "v1alpha1", "kind": "ExtensionServiceConfig", "name": "tailscale", "environment": environment}


def machine_config(node: MachineConfigInput, bundle: SecretsBundle) -> list[dict[str, Any]]:
    """The node's config documents: the v1alpha1 config, the network documents of its Talos minor (none up to
    v1.11), then the tailscale extension config if any."""
    v1alpha1: dict[str, Any] = {"version": "v1alpha1", "debug": False}
    if node.persist is not None:
        v1alpha1["persist"] = node.persist
    v1alpha1 |= {"machine": _machine(node, bundle), "cluster": _cluster(node, bundle)}
    documents: list[dict[str, Any]] = [v1alpha1, *network_documents(node)]
    extension = tailscale_extension_config(node)
    if extension is not None:
        documents.append(extension)
    return documents
