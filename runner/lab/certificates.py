"""How the lab issues X.509 certificates: one builder for every twin's CAs, serving and client certificates.

The twins need certificates that real clients accept with TLS verification on. What differs between a
Proxmox serving cert, a Kubernetes CA and a Talos client cert (subject, issuer, key usages, SANs,
lifetime) is a parameter here, not another copy of the builder. Tests issue theirs here too.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID, ObjectIdentifier

IssuerKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
SubjectKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
KeyUsageFlag = Literal[
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
]
_KEY_USAGE_FLAGS: tuple[KeyUsageFlag, ...] = get_args(KeyUsageFlag)
# Clocks of a twin and its client may differ a little: a certificate valid from a few minutes ago works.
BACKDATE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Issuer:
    """Who signs: the issuing CA's subject and key."""

    name: x509.Name
    key: IssuerKey

    @classmethod
    def of(cls, ca_cert: x509.Certificate, ca_key: PrivateKeyTypes) -> Issuer:
        if not isinstance(ca_key, IssuerKey):
            raise ValueError("the CA key must be an ECDSA, RSA or Ed25519 private key")
        return cls(ca_cert.subject, ca_key)


@dataclass(frozen=True)
class Issued:
    """A fresh key and the certificate issued for it."""

    cert: x509.Certificate
    key: SubjectKey

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self, private_format: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8) -> bytes:
        """PKCS#8 PEM by default; `TraditionalOpenSSL` gives the `EC PRIVATE KEY` form Talos writes."""
        return self.key.private_bytes(serialization.Encoding.PEM, private_format, serialization.NoEncryption())


def name(*, organization: str | None = None, common_name: str | None = None) -> x509.Name:
    """A subject with O before CN, the order Talos and Kubernetes tooling write them in."""
    attributes = []
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if common_name:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def issue(
    subject: x509.Name,
    *,
    issuer: Issuer | None = None,
    algorithm: Literal["ecdsa", "ed25519"] = "ecdsa",
    lifetime: dt.timedelta,
    backdate: dt.timedelta = BACKDATE,
    ca: bool | None = None,
    key_usage: Iterable[KeyUsageFlag] = (),
    extended_key_usage: Sequence[ObjectIdentifier] = (),
    sans: Iterable[str] = (),
) -> Issued:
    """A new key (P-256 ECDSA, or Ed25519 like Talos' OS CA) and its certificate, signed by `issuer`
    (self-signed without one); each extension only when asked for.

    `ca` sets basic constraints, `key_usage` the (critical) key usage bits, `sans` the subject
    alternative names: IP addresses as such, anything else as a DNS name.
    """
    key: SubjectKey = (
        ed25519.Ed25519PrivateKey.generate() if algorithm == "ed25519" else ec.generate_private_key(ec.SECP256R1())
    )
    signer = issuer or Issuer(subject, key)
    now = dt.datetime.now(dt.UTC)
    extensions: list[tuple[x509.ExtensionType, bool]] = []
    if ca is not None:
        extensions.append((x509.BasicConstraints(ca=ca, path_length=None), True))
    if usage := set(key_usage):
        flags = {flag: flag in usage for flag in _KEY_USAGE_FLAGS}
        extensions.append((x509.KeyUsage(**flags, encipher_only=False, decipher_only=False), True))
    if extended_key_usage:
        extensions.append((x509.ExtendedKeyUsage(list(extended_key_usage)), False))
    if alt_names := [_general_name(san) for san in sans]:
        extensions.append((x509.SubjectAlternativeName(alt_names), False))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer.name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - backdate)
        .not_valid_after(now + lifetime)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    # Ed25519 signs the message itself; the others sign its SHA-256 digest.
    cert = builder.sign(signer.key, None if isinstance(signer.key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    return Issued(cert, key)


def _general_name(san: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(san))
    except ValueError:
        return x509.DNSName(san)
