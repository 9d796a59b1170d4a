"""Certificate authorities and private keys exactly as Talos writes them.

Mirrors `siderolabs/crypto` x509 (v0.6.3, used by Talos v1.11):
`NewSelfSignedCertificateAuthority` makes a v3 self-signed certificate with a random 128-bit serial, a
random 20-byte subject key id, key usage digitalSignature+certSign (critical), extended key usage
serverAuth+clientAuth, basic constraints CA (critical), and nothing else (no authority key id, no
SANs). Keys are P-256 ECDSA (signed ecdsa-with-SHA256) or Ed25519, PEM-labelled as Go does (see pem.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from runner.core.talos.pem import private_key_pem

# secrets.CAValidityTime = 87600 * time.Hour: ten years of 365 days.
CA_VALIDITY = timedelta(hours=87600)

KeyAlgorithm = Literal["ecdsa", "ed25519"]
CaKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class PemPair:
    """A certificate and its private key, both PEM text."""

    crt: str
    key: str


def _new_key(algorithm: KeyAlgorithm) -> CaKey:
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def _serial() -> int:
    # Go: rand.Int(rand.Reader, 2^128); zero is not a valid serial for `cryptography`, so skip it.
    while True:
        serial = secrets.randbits(128)
        if serial:
            return serial


def new_ca(now: datetime, *, algorithm: KeyAlgorithm, organization: str | None) -> PemPair:
    """A self-signed CA the way `x509.NewSelfSignedCertificateAuthority` builds one.

    `organization=None` gives an empty subject, which is what Talos produces for the aggregator CA
    (its CommonName option is ignored by the self-signed CA template).
    """
    key = _new_key(algorithm)
    # Go's asn1 marshals the organization as a PrintableString (cryptography would pick UTF8String).
    organization_name = x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization or "", _ASN1Type.PrintableString)
    name = x509.Name([organization_name] if organization else [])
    not_before = now.replace(microsecond=0)
    builder = (
        x509.CertificateBuilder()
        .serial_number(_serial())
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .not_valid_before(not_before)
        .not_valid_after(not_before + CA_VALIDITY)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier(secrets.token_bytes(20)), critical=False)
    )
    if isinstance(key, ed25519.Ed25519PrivateKey):
        cert = builder.sign(key, None)
    else:
        cert = builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    return PemPair(crt=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"), key=private_key_pem(key))
