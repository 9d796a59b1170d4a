"""`talos_machine_configuration` for Talos v1.11: the v1alpha1 document the generator writes, then the patches.

Rules from siderolabs/talos v1.11.6 `pkg/machinery/config/generate/` init.go (a controlplane is init's
document with `type: controlplane`, controlplane.go) and worker.go, with the v1.11 answers of
pkg/machinery/config/contract.go (every feature flag up to AddExcludeFromExternalLoadBalancer on; no alternate
registries, secretbox encryption). The golden files upstream checks the generator with are
pkg/machinery/types/v1alpha1/testdata/stability/v1.11/base-{controlplane,worker}.yaml@v1.11.6.

terraform-provider-talos v0.9.0 pkg/talos/util.go adds its own generate options: cluster discovery on, DNS
domain cluster.local, install disk /dev/sda, install image ghcr.io/siderolabs/installer:<machinery tag>
(v1.11.0 in that release), persist true. Then it applies `config_patches` (strategic merge, patch.py).
"""

from __future__ import annotations

from io import StringIO
from typing import Any

from ruamel.yaml import YAML

from tests.adopt.foreign_gen.patch import strategic_merge

PROVIDER_INSTALLER = "ghcr.io/siderolabs/installer:v1.11.0"  # gendata.VersionTag of the provider's machinery
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


def _machine(kind: str, secrets: dict[str, Any], kubernetes: str) -> dict[str, Any]:
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
        "install": {"disk": PROVIDER_INSTALL_DISK, "image": PROVIDER_INSTALLER, "wipe": False},
        "features": {
            "rbac": True,
            "stableHostname": True,
            "apidCheckExtKeyUsage": True,
            "diskQuotaSupport": True,
            "kubePrism": {"enabled": True, "port": KUBEPRISM_PORT},
            "hostDNS": {"enabled": True, "forwardKubeDNSToHost": True},
        },
    }
    if kind != "worker":
        machine["nodeLabels"] = {EXCLUDE_FROM_LB: ""}
    return machine


def _discovery() -> dict[str, Any]:
    return {"enabled": True, "registries": {"kubernetes": {"disabled": True}, "service": {}}}


def _cluster(kind: str, secrets: dict[str, Any], name: str, endpoint: str, kubernetes: str) -> dict[str, Any]:
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
    return cluster


def generate(kind: str, secrets: dict[str, Any], cluster_name: str, endpoint: str, kubernetes: str) -> dict[str, Any]:
    """The generator's v1alpha1 document for `kind` (controlplane or worker), before any patch."""
    assert kind in ("controlplane", "worker"), kind
    return {
        "version": "v1alpha1",
        "debug": False,
        "persist": True,
        "machine": _machine(kind, secrets, kubernetes),
        "cluster": _cluster(kind, secrets, cluster_name, endpoint, kubernetes),
    }


def machine_configuration(
    kind: str, secrets: dict[str, Any], cluster_name: str, endpoint: str, kubernetes: str, patches: list[str]
) -> str:
    """The data source's `machine_configuration`: the generated document with every patch merged, as YAML with
    a docs comment on top (`docs = true`; comments are nothing a parser keeps)."""
    document = generate(kind, secrets, cluster_name, endpoint, kubernetes)
    loader = YAML(typ="safe", pure=True)
    for patch in patches:
        for part in loader.load_all(patch):
            if part:
                document = strategic_merge(document, part)
    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=4, sequence=4, offset=2)  # the Go encoder's indentation
    out = StringIO()
    yaml.dump(document, out)
    return "# Indicates the schema used to decode the contents.\n" + out.getvalue()
