"""Certificate checks and issuing for the node twins (the parts of mTLS and PKI Talos relies on)."""

from __future__ import annotations

import base64
import datetime as dt
import re

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.S)


def pem_blocks(pem: bytes | str) -> list[tuple[str, bytes]]:
    """(label, DER) of every PEM block; Talos labels Ed25519 keys `ED25519 PRIVATE KEY`, so parse by hand."""
    text = pem.decode() if isinstance(pem, bytes) else pem
    return [(label, base64.b64decode("".join(body.split()))) for label, body in _PEM_BLOCK.findall(text)]


def load_certificate(pem: bytes | str) -> x509.Certificate:
    for label, der in pem_blocks(pem):
        if label == "CERTIFICATE":
            return x509.load_der_x509_certificate(der)
    raise ValueError("no CERTIFICATE block found")


def load_private_key(pem: bytes | str) -> PrivateKeyTypes:
    for label, der in pem_blocks(pem):
        if label.endswith("PRIVATE KEY"):  # PKCS#8, SEC1 and PKCS#1 bodies all load here
            return serialization.load_der_private_key(der, password=None)
    raise ValueError("no PRIVATE KEY block found")


def b64pem(value: str) -> bytes:
    """Talos machine configs and talosconfigs carry PEM as base64 text."""
    return base64.b64decode(value)


def signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """True when `ca`'s key made `cert`'s signature (chain of one, as Talos' PKI is)."""
    if cert.issuer != ca.subject:
        return False
    key = ca.public_key()
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            assert cert.signature_hash_algorithm is not None
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            assert cert.signature_hash_algorithm is not None
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        else:
            return False
    except (InvalidSignature, AssertionError):
        return False
    return True


def key_matches(cert: x509.Certificate, key: PrivateKeyTypes) -> bool:
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return cert.public_key().public_bytes(*raw) == key.public_key().public_bytes(*raw)


def roles(cert: x509.Certificate) -> set[str]:
    """Talos reads the client's roles from the certificate's Organization entries."""
    return {str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)}


def issue_client_cert(
    ca_cert: x509.Certificate,
    ca_key: PrivateKeyTypes,
    common_name: str,
    organization: str,
    lifetime: dt.timedelta,
) -> tuple[bytes, bytes]:
    """A client certificate + key (ECDSA P-256, like Talos' Kubernetes admin certs), both PEM."""
    if not isinstance(ca_key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("unsupported CA key type")
    issuer_key: CertificateIssuerPrivateKeyTypes = ca_key
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(seconds=10))
        .not_valid_after(now + lifetime)
        .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(issuer_key, None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
