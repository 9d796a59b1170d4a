"""The admin kubeconfig, issued by the runner from the cluster's Kubernetes CA (it holds the secrets bundle).

This is what `talosctl kubeconfig` asks a control-plane node to do (Talos `pkg/kubeconfig.GenerateAdmin`:
a client certificate `CN=admin, O=system:masters` signed by the Kubernetes CA); doing it here costs no
talosctl process and works while the bootstrap node is down.
"""

from __future__ import annotations

import base64
import datetime as dt
import io

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ruamel.yaml import YAML

from runner.core.errors import Permanent
from runner.core.secret import Secret

ADMIN_LIFETIME = dt.timedelta(hours=24)  # short: the runner issues a fresh one whenever it needs one


def admin_kubeconfig(ca_crt_pem: str, ca_key_pem: Secret, cluster: str, server: str) -> Secret:
    try:
        ca_cert = x509.load_pem_x509_certificate(ca_crt_pem.encode())
        ca_key = serialization.load_pem_private_key(ca_key_pem.reveal().encode(), password=None)
    except ValueError as e:
        raise Permanent(f"Kubernetes CA in the secrets bundle is not a PEM certificate and key: {e}") from None
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise Permanent("Kubernetes CA key has an unsupported key type")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            x509.NameAttribute(NameOID.COMMON_NAME, "admin"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + ADMIN_LIFETIME)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, None if isinstance(ca_key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    user = f"admin@{cluster}"
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster, "cluster": {"server": server, "certificate-authority-data": _b64(ca_crt_pem.encode())}}
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(cert.public_bytes(serialization.Encoding.PEM)),
                    "client-key-data": _b64(key_pem),
                },
            }
        ],
        "contexts": [{"name": user, "context": {"cluster": cluster, "namespace": "default", "user": user}}],
        "current-context": user,
    }
    out = io.StringIO()
    yaml = YAML()
    yaml.width = 1 << 16
    yaml.dump(doc, out)
    return Secret(out.getvalue())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
