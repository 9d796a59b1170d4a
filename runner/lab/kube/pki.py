"""Certificates for the twin: a serving cert signed by the cluster's Kubernetes CA, and admin kubeconfigs.

Signing the serving cert with the same CA the kubeconfig carries keeps TLS verification on in clients,
exactly as against a real API server.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from runner.lab import certificates

DEFAULT_SERVER_NAMES = ("127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")


@dataclass(frozen=True)
class CertificateAuthority:
    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def generate(cls, common_name: str = "kubernetes") -> CertificateAuthority:
        issued = certificates.issue(
            certificates.name(common_name=common_name),
            lifetime=dt.timedelta(days=3650),
            ca=True,
            key_usage=("digital_signature", "key_cert_sign", "crl_sign"),
        )
        return cls(issued.cert_pem(), issued.key_pem())

    def issue(
        self, common_name: str, *, organization: str | None = None, names: tuple[str, ...] = (), server: bool = False
    ) -> tuple[bytes, bytes]:
        """(cert PEM, key PEM) for a server (SANs from `names`) or a client (CN/O = user/groups)."""
        ca_cert = x509.load_pem_x509_certificate(self.cert_pem)
        ca_key = serialization.load_pem_private_key(self.key_pem, password=None)
        issued = certificates.issue(
            certificates.name(organization=organization, common_name=common_name),
            issuer=certificates.Issuer.of(ca_cert, ca_key),
            lifetime=dt.timedelta(days=365),
            ca=False,
            extended_key_usage=[ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH],
            sans=names if server else (),
        )
        return issued.cert_pem(), issued.key_pem()


def admin_kubeconfig(ca: CertificateAuthority, server: str, cluster: str = "home") -> str:
    """A kubeconfig like `talosctl kubeconfig` writes: admin client cert (O=system:masters) and the cluster CA."""
    cert, key = ca.issue("admin", organization="system:masters")

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    user = f"admin@{cluster}"
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {cluster}\n  cluster:\n    server: {server}\n"
        f"    certificate-authority-data: {b64(ca.cert_pem)}\n"
        f"users:\n- name: {user}\n  user:\n    client-certificate-data: {b64(cert)}\n"
        f"    client-key-data: {b64(key)}\n"
        f"contexts:\n- name: {user}\n  context:\n    cluster: {cluster}\n    namespace: default\n    user: {user}\n"
        f"current-context: {user}\n"
    )
