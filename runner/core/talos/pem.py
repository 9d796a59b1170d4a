"""PEM encoding the way Go (and therefore Talos) writes and reads it.

Talos's key loader (`siderolabs/crypto` x509 `GetKey`) dispatches on the PEM label: "RSA PRIVATE KEY"
is PKCS#1, "EC PRIVATE KEY" is SEC1, "ED25519 PRIVATE KEY" is PKCS#8 DER holding an Ed25519 key, and
"PRIVATE KEY" is generic PKCS#8. Any other label is refused, so we write (and accept) exactly these.
"""

from __future__ import annotations

import base64

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

PEM_CERTIFICATE = "CERTIFICATE"
PEM_EC_PRIVATE = "EC PRIVATE KEY"
PEM_ED25519_PRIVATE = "ED25519 PRIVATE KEY"
PEM_RSA_PRIVATE = "RSA PRIVATE KEY"
PEM_PKCS8_PRIVATE = "PRIVATE KEY"

TalosPrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


def pem_encode(label: str, der: bytes) -> str:
    """Go's `pem.EncodeToMemory`: 64-column base64 between BEGIN/END lines, trailing newline."""
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n"


def pem_decode(text: str) -> tuple[str, bytes]:
    """First PEM block of `text` as (label, DER); ValueError("failed to parse PEM block") otherwise."""
    begin = text.find("-----BEGIN ")
    header_end = text.find("-----", begin + 11) if begin >= 0 else -1
    if header_end < 0:
        raise ValueError("failed to parse PEM block")
    label = text[begin + 11 : header_end]
    end = text.find(f"-----END {label}-----", header_end)
    if end < 0:
        raise ValueError("failed to parse PEM block")
    try:
        return label, base64.b64decode("".join(text[header_end + 5 : end].split()), validate=True)
    except ValueError as exc:
        raise ValueError("failed to parse PEM block") from exc


def private_key_pem(key: TalosPrivateKey) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return pem_encode(PEM_ED25519_PRIVATE, der)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return pem_encode(PEM_EC_PRIVATE if isinstance(key, ec.EllipticCurvePrivateKey) else PEM_RSA_PRIVATE, der)


def _checked(key: PrivateKeyTypes, expected: type | tuple[type, ...], what: str) -> TalosPrivateKey:
    if not isinstance(key, expected):
        raise ValueError(f"failed parsing {what} key, got wrong key type")
    return key  # type: ignore[return-value]


def load_private_key(text: str) -> TalosPrivateKey:
    """Parse a key the way Talos does; ValueError with Talos's wording when it would refuse it."""
    label, der = pem_decode(text)
    try:
        if label == PEM_RSA_PRIVATE:
            # The full RSA consistency check costs ~0.5 s for 4096 bits on every secrets load; the
            # DER structure is still parsed, and these keys come from our own SOPS-encrypted file.
            key = serialization.load_der_private_key(der, None, unsafe_skip_rsa_key_validation=True)
            return _checked(key, rsa.RSAPrivateKey, "RSA")
        if label == PEM_EC_PRIVATE:
            return _checked(serialization.load_der_private_key(der, None), ec.EllipticCurvePrivateKey, "ECDSA")
        if label == PEM_ED25519_PRIVATE:
            return _checked(serialization.load_der_private_key(der, None), ed25519.Ed25519PrivateKey, "Ed25519")
        if label == PEM_PKCS8_PRIVATE:
            key = serialization.load_der_private_key(der, None)
            return _checked(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey), "PKCS#8")
    except (TypeError, ValueError) as exc:
        if "wrong key type" in str(exc):
            raise
        raise ValueError(f"failed to parse key: {exc}") from exc
    raise ValueError(f'unsupported key type: "{label}"')


def load_certificate(text: str) -> x509.Certificate:
    label, der = pem_decode(text)
    if label != PEM_CERTIFICATE:
        raise ValueError(f'expected a CERTIFICATE PEM block, got "{label}"')
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise ValueError(f"failed to parse certificate: {exc}") from exc
