"""The runner's Talos API credentials: an os:admin client certificate signed by the cluster's OS CA.

Talos' OS CA is Ed25519 and Talos labels Ed25519 keys `ED25519 PRIVATE KEY` (a PKCS#8 body), a label
`cryptography`'s PEM loader does not accept, so PEM is unwrapped by hand here.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import textwrap
from dataclasses import dataclass
from io import StringIO

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ruamel.yaml import YAML

from runner.core.errors import Permanent
from runner.core.secret import Secret

ADMIN_ROLE = "os:admin"
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.S)


def _der(pem: str, suffix: str) -> bytes:
    for label, body in _PEM.findall(pem):
        if label.endswith(suffix):
            return base64.b64decode("".join(body.split()))
    raise ValueError(f"no {suffix} PEM block")


@dataclass(frozen=True)
class ClientCredentials:
    ca_crt_pem: bytes
    crt_pem: bytes
    key_pem: Secret
    not_after: dt.datetime


def issue_admin_credentials(
    ca_crt_pem: bytes, ca_key_pem: Secret, lifetime: dt.timedelta = dt.timedelta(hours=24)
) -> ClientCredentials:
    """What `talosctl config new --roles os:admin` does, with the OS CA from the secrets bundle."""
    try:
        ca_cert = x509.load_der_x509_certificate(_der(ca_crt_pem.decode(), "CERTIFICATE"))
        ca_key = serialization.load_der_private_key(_der(ca_key_pem.reveal(), "PRIVATE KEY"), password=None)
    except (ValueError, UnicodeDecodeError) as e:
        raise Permanent(
            f"Talos OS CA in the secrets bundle is not a PEM certificate and key: {type(e).__name__}"
        ) from e
    if not isinstance(ca_key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise Permanent("Talos OS CA key has an unsupported key type")
    issuer: CertificateIssuerPrivateKeyTypes = ca_key
    key = ed25519.Ed25519PrivateKey.generate()
    now = dt.datetime.now(dt.UTC)
    not_after = now + lifetime
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ADMIN_ROLE)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(not_after)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(issuer, None if isinstance(issuer, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    body = "\n".join(textwrap.wrap(base64.b64encode(pkcs8).decode(), 64))
    key_pem = f"-----BEGIN ED25519 PRIVATE KEY-----\n{body}\n-----END ED25519 PRIVATE KEY-----\n"
    return ClientCredentials(
        ca_crt_pem=ca_crt_pem,
        crt_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=Secret(key_pem),
        not_after=not_after,
    )


def talosconfig_text(creds: ClientCredentials, endpoints: list[str], nodes: list[str], context: str) -> Secret:
    """A talosconfig (pkg/machinery/client/config format: base64 PEM in ca/crt/key)."""
    ctx: dict[str, object] = {
        "endpoints": list(endpoints),
        "ca": _b64(creds.ca_crt_pem),
        "crt": _b64(creds.crt_pem),
        "key": _b64(creds.key_pem.reveal().encode()),
    }
    if nodes:
        ctx["nodes"] = list(nodes)
    out = StringIO()
    YAML().dump({"context": context, "contexts": {context: ctx}}, out)
    return Secret(out.getvalue())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
