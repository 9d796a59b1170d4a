"""The secure API only answers clients whose certificate the node's OS CA signed."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin
from tests.talos_nodes.conftest import Bundle, boot_to_maintenance, driver_for, running

CP = "10.0.0.11"


def test_client_of_another_cluster_is_refused(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, other_bundle: Bundle, talosctl: Path
) -> None:
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    stranger = driver_for(other_bundle, talosctl)

    with pytest.raises(Permanent, match="x509: certificate signed by unknown authority"):
        stranger.apply_config(CP, Secret(other_bundle.config("controlplane", "cp")), insecure=False)
    with pytest.raises(Permanent, match="TLS handshake failed"):
        stranger.stage(CP)


def test_secure_call_to_maintenance_node_fails_tls(twin: TalosTwin, driver: TalosctlDriver) -> None:
    boot_to_maintenance(twin, CP)
    with pytest.raises(Permanent, match="certificate signed by unknown authority"):
        driver.bootstrap(CP)  # bootstrap before a config was applied


def test_insecure_apply_to_running_node_needs_a_certificate(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle
) -> None:
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    with pytest.raises(Permanent, match="tls: certificate required"):
        driver.apply_config(CP, Secret(bundle.config("controlplane", "cp")), insecure=True)


def test_talosconfig_has_admin_client_cert_signed_by_os_ca(driver: TalosctlDriver, bundle: Bundle) -> None:
    config = yaml.safe_load(driver.talosconfig_yaml(["10.0.0.11"], ["10.0.0.11"]).reveal())
    ctx = config["contexts"][config["context"]]
    assert ctx["endpoints"] == ["10.0.0.11"] and ctx["nodes"] == ["10.0.0.11"]
    cert = x509.load_pem_x509_certificate(base64.b64decode(ctx["crt"]))
    ca = x509.load_pem_x509_certificate(base64.b64decode(ctx["ca"]))
    cert.verify_directly_issued_by(ca)
    assert ca.public_bytes(Encoding.PEM) == bundle.os_ca.crt_pem
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["os:admin"]
    assert b"ED25519 PRIVATE KEY" in base64.b64decode(ctx["key"])
