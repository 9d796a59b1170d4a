"""Certificate checks and issuing for the node twins (the parts of mTLS and PKI Talos relies on)."""

from __future__ import annotations

import base64
import datetime as dt
import re

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from runner.lab import certificates

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
    issued = certificates.issue(
        certificates.name(organization=organization, common_name=common_name),
        issuer=certificates.Issuer.of(ca_cert, ca_key),
        lifetime=lifetime,
        backdate=dt.timedelta(seconds=10),
        key_usage=("digital_signature", "key_encipherment"),
        extended_key_usage=[ExtendedKeyUsageOID.CLIENT_AUTH],
    )
    return issued.cert_pem(), issued.key_pem(serialization.PrivateFormat.TraditionalOpenSSL)
