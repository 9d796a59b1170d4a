"""`talos_machine_configuration` for Talos v1.11 and v1.13: the documents the generator writes, then the patches.

Rules from siderolabs/talos `pkg/machinery/config/generate/` init.go (a controlplane is init's document with
`type: controlplane`, controlplane.go) and worker.go at v1.11.6 and v1.13.9, with each version's answers of
pkg/machinery/config/contract.go (every feature flag up to AddExcludeFromExternalLoadBalancer on; no alternate
registries, secretbox encryption). From v1.12 (contract.Greater(TalosVersion1_11)): no `machine.network`
(MultidocNetworkConfigSupported), `features.rbac`/`apidCheckExtKeyUsage` hidden (HideRBACAndKeyUsage), no
`disablePodSecurityPolicy` (HideDisablePSP), the API server SANs no longer start with the endpoint's host
(PopulateClusterSANsFromEndpoint), `install.grubUseUKICmdline` (GrubUseUKICmdlineDefault), and instead of
`features.stableHostname` a HostnameConfig document with `auto: stable`. The golden files upstream checks the
generator with: pkg/machinery/types/v1alpha1/testdata/stability/v1.1x/base-{controlplane,worker}.yaml.

terraform-provider-talos pkg/talos/util.go (v0.9.0 on Talos machinery v1.11.0, v0.11.0 on v1.13.0) adds its own
generate options: cluster discovery on, DNS domain cluster.local, install disk /dev/sda, install image
ghcr.io/siderolabs/installer:<machinery tag>, persist (v0.9.0; the v1.13 generator sets it itself). Then it
applies `config_patches` (strategic merge, patch.py).
"""

from __future__ import annotations

from io import StringIO
from typing import Any

from ruamel.yaml import YAML

from tests.adopt.foreign_gen.patch import merge_documents

# gendata.VersionTag of the provider release built on each Talos minor's machinery (v0.9.0, v0.11.0)
PROVIDER_INSTALLER = {11: "ghcr.io/siderolabs/installer:v1.11.0", 13: "ghcr.io/siderolabs/installer:v1.13.0"}
PROVIDER_INSTALL_DISK = "/dev/sda"
DNS_DOMAIN = "cluster.local"  # constants.DefaultDNSDomain
POD_SUBNETS = ["10.244.0.0/16"]  # constants.DefaultIPv4PodNet
SERVICE_SUBNETS = ["10.96.0.0/12"]  # constants.DefaultIPv4ServiceNet
KUBEPRISM_PORT = 7445  # constants.DefaultKubePrismPort
EXCLUDE_FROM_LB = "node.kubernetes.io/exclude-from-external-load-balancers"  # constants.LabelExcludeFromExternalLB
POD_SECURITY = {  # init.go; Unstructured is a map, which the Go encoder writes with sorted keys
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
AUDIT_POLICY = {  # v1alpha1.APIServerDefaultAuditPolicy
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "rules": [{"level": "Metadata"}],
}


def _pair(pair: dict[str, str], with_key: bool) -> dict[str, str]:
    return {"crt": pair["cert"], "key": pair["key"] if with_key else ""}


def _minor(talos: str) -> int:
    major, minor = talos.removeprefix("v").split(".")[:2]
    assert major == "1" and int(minor) in PROVIDER_INSTALLER, f"the generator imitates Talos v1.11 and v1.13: {talos}"
    return int(minor)


def _machine(kind: str, secrets: dict[str, Any], kubernetes: str, minor: int) -> dict[str, Any]:
    certs = secrets["certs"]
    machine: dict[str, Any] = {
        "type": kind,
        "token": secrets["trustdinfo"]["token"],
        "ca": _pair(certs["os"], with_key=kind != "worker"),
        "certSANs": [],
        "kubelet": {
            "image": f"ghcr.io/siderolabs/kubelet:v{kubernetes.removeprefix('v')}",
            "defaultRuntimeSeccompProfileEnabled": True,
            "disableManifestsDirectory": True,
        },
        "network": {},
        "install": {"disk": PROVIDER_INSTALL_DISK, "image": PROVIDER_INSTALLER[minor], "wipe": False},
        "features": {
            "rbac": True,
            "stableHostname": True,
            "apidCheckExtKeyUsage": True,
            "diskQuotaSupport": True,
            "kubePrism": {"enabled": True, "port": KUBEPRISM_PORT},
            "hostDNS": {"enabled": True, "forwardKubeDNSToHost": True},
        },
    }
    if minor > 11:
        del machine["network"], machine["features"]["rbac"], machine["features"]["apidCheckExtKeyUsage"]
        del machine["features"]["stableHostname"]
        machine["install"]["grubUseUKICmdline"] = True
    if kind != "worker":
        machine["nodeLabels"] = {EXCLUDE_FROM_LB: ""}
    return machine


def _discovery() -> dict[str, Any]:
    return {"enabled": True, "registries": {"kubernetes": {"disabled": True}, "service": {}}}


def _cluster(
    kind: str, secrets: dict[str, Any], name: str, endpoint: str, kubernetes: str, minor: int
) -> dict[str, Any]:
    certs = secrets["certs"]
    tag = f"v{kubernetes.removeprefix('v')}"
    network = {"dnsDomain": DNS_DOMAIN, "podSubnets": list(POD_SUBNETS), "serviceSubnets": list(SERVICE_SUBNETS)}
    cluster: dict[str, Any] = {
        "id": secrets["cluster"]["id"],
        "secret": secrets["cluster"]["secret"],
        "controlPlane": {"endpoint": endpoint},
        "clusterName": name,  # ClusterNameForWorkers: workers carry it too from v1.8
        "network": network,
        "token": secrets["secrets"]["bootstrap_token"],
    }
    if kind == "worker":
        cluster["ca"] = _pair(certs["k8s"], with_key=False)
        cluster["discovery"] = _discovery()
        return cluster
    host = endpoint.removeprefix("https://").rsplit(":", 1)[0]
    cluster |= {
        "secretboxEncryptionSecret": secrets["secrets"]["secretbox_encryption_secret"],
        "ca": _pair(certs["k8s"], with_key=True),
        "aggregatorCA": _pair(certs["k8s_aggregator"], with_key=True),
        "serviceAccount": {"key": certs["k8s_serviceaccount"]["key"]},
        "apiServer": {
            "image": f"registry.k8s.io/kube-apiserver:{tag}",
            "certSANs": [host],  # GetAPIServerSANs: the endpoint's host, then additional SANs (none)
            "disablePodSecurityPolicy": True,
            "admissionControl": [POD_SECURITY],
            "auditPolicy": AUDIT_POLICY,
        },
        "controllerManager": {"image": f"registry.k8s.io/kube-controller-manager:{tag}"},
        "proxy": {"image": f"registry.k8s.io/kube-proxy:{tag}"},
        "scheduler": {"image": f"registry.k8s.io/kube-scheduler:{tag}"},
        "discovery": _discovery(),
        "etcd": {"ca": _pair(certs["etcd"], with_key=True)},
    }
    if minor > 11:
        del cluster["apiServer"]["certSANs"], cluster["apiServer"]["disablePodSecurityPolicy"]
    return cluster


def generate(
    kind: str, secrets: dict[str, Any], cluster_name: str, endpoint: str, kubernetes: str, talos: str = "v1.11.6"
) -> list[dict[str, Any]]:
    """The generator's documents for `kind` (controlplane or worker) on Talos `talos`, before any patch."""
    assert kind in ("controlplane", "worker"), kind
    minor = _minor(talos)
    documents: list[dict[str, Any]] = [
        {
            "version": "v1alpha1",
            "debug": False,
            "persist": True,
            "machine": _machine(kind, secrets, kubernetes, minor),
            "cluster": _cluster(kind, secrets, cluster_name, endpoint, kubernetes, minor),
        }
    ]
    if minor > 11:
        documents.append({"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": "stable"})
    return documents


def machine_configuration(
    kind: str,
    secrets: dict[str, Any],
    cluster_name: str,
    endpoint: str,
    kubernetes: str,
    patches: list[str],
    talos: str = "v1.11.6",
) -> str:
    """The data source's `machine_configuration`: the generated documents with every patch merged, as YAML with
    a docs comment on top (`docs = true`; comments are nothing a parser keeps)."""
    documents = generate(kind, secrets, cluster_name, endpoint, kubernetes, talos)
    loader = YAML(typ="safe", pure=True)
    for patch in patches:
        documents = merge_documents(documents, [part for part in loader.load_all(patch) if part])
    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=4, sequence=4, offset=2)  # the Go encoder's indentation
    parts = []
    for document in documents:
        out = StringIO()
        yaml.dump(document, out)
        parts.append(out.getvalue())
    return "# Indicates the schema used to decode the contents.\n" + "---\n".join(parts)
