"""The admin kubeconfig is real: its client certificate is signed by the cluster's Kubernetes CA.

Both the one a control-plane node hands out (`talosctl kubeconfig`) and the one the runner issues itself
from the bundle's Kubernetes CA (what it uses to reach the cluster) have the same identity and issuer.
"""

from __future__ import annotations

import base64

import yaml  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.x509.oid import NameOID

from runner.core.secret import Secret
from runner.drivers.kube.credentials import admin_kubeconfig
from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin
from tests.talos_nodes.conftest import Bundle, running, talosctl_as_runner

CP, WORKER = "10.0.0.11", "10.0.0.21"


def check_admin_kubeconfig(text: str, bundle: Bundle) -> None:
    doc = yaml.safe_load(text)
    assert doc["current-context"] == "admin@home"
    assert doc["clusters"][0]["cluster"]["server"] == "https://10.0.0.11:6443"
    k8s_ca = x509.load_pem_x509_certificate(bundle.k8s_ca.crt_pem)
    assert base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"]) == bundle.k8s_ca.crt_pem
    client = x509.load_pem_x509_certificate(base64.b64decode(doc["users"][0]["user"]["client-certificate-data"]))
    client.verify_directly_issued_by(k8s_ca)
    assert client.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    assert client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "admin"


def test_node_kubeconfig_client_cert_verifies_against_k8s_ca(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle
) -> None:
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    result = talosctl_as_runner(driver, "kubeconfig", "-", "--merge=false", nodes=[CP])
    assert result.returncode == 0, result.stderr
    check_admin_kubeconfig(result.stdout, bundle)


def test_runner_issues_the_same_admin_identity(bundle: Bundle) -> None:
    kubeconfig = admin_kubeconfig(
        bundle.k8s_ca.crt_pem.decode(), Secret(bundle.k8s_ca.key_pem.decode()), "home", "https://10.0.0.11:6443"
    )
    assert isinstance(kubeconfig, Secret)
    check_admin_kubeconfig(kubeconfig.reveal(), bundle)


def test_kubeconfig_from_worker_is_refused(twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle) -> None:
    running(twin, bundle, WORKER, "worker", "talos-worker-01")
    result = talosctl_as_runner(driver, "kubeconfig", "-", "--merge=false", nodes=[WORKER])
    assert result.returncode == 1
    assert "kubeconfig is only available on control plane nodes" in result.stderr
