"""A generated bundle has Talos v1.11's certificates, keys and token shapes."""

from __future__ import annotations

import base64
import random
import re
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
from talos_testdata import GENERATED_AT

from runner.core.talos import SecretsBundle, bundle_fingerprint, generate_bundle
from runner.core.talos.entropy import Entropy
from runner.core.talos.pem import load_private_key, pem_decode
from runner.core.talos.pki import PemPair, new_ca

TOKEN = re.compile(r"^[0-9a-z]{6}\.[0-9a-z]{16}$")
# (bundle attribute, expected subject organization or None for an empty subject, key type)
CAS = [
    ("etcd", "etcd", ec.EllipticCurvePrivateKey),
    ("k8s", "kubernetes", ec.EllipticCurvePrivateKey),
    ("k8s_aggregator", None, ec.EllipticCurvePrivateKey),
    ("os", "talos", ed25519.Ed25519PrivateKey),
]
# Fingerprint of generate_bundle(GENERATED_AT, random.Random(SEED)); changes only if the output does.
SEEDED_FINGERPRINT = "7a5b56164d3c1f4c8fd58eed0bc0031c3a4b90ac119941569c8bf6ae88bc6a6b"


def _cert(bundle: SecretsBundle, attr: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(getattr(bundle.certs, attr).crt.encode())


@pytest.mark.parametrize(("attr", "organization", "key_type"), CAS)
def test_each_ca_is_self_signed_with_talos_subject_and_key_type(bundle, attr, organization, key_type):
    cert = _cert(bundle, attr)
    key = load_private_key(getattr(bundle.certs, attr).key.reveal())
    assert cert.issuer == cert.subject
    expected = [organization] if organization else []
    assert [a.value for a in cert.subject] == expected
    if organization:
        assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == organization
    assert isinstance(key, key_type)
    assert cert.public_key() == key.public_key()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        assert isinstance(key.curve, ec.SECP256R1)
    cert.verify_directly_issued_by(cert)


@pytest.mark.parametrize(("attr", "organization", "key_type"), CAS)
def test_each_ca_has_talos_extensions_and_ten_year_validity(bundle, attr, organization, key_type):
    cert = _cert(bundle, attr)
    assert [e.oid for e in cert.extensions] == [
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    ]
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length is None
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.digital_signature
    assert not usage.value.crl_sign and not usage.value.key_encipherment
    extended = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(extended) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    assert cert.not_valid_before_utc == GENERATED_AT.replace(microsecond=0)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(hours=87600)
    assert cert.version == x509.Version.v3
    assert 0 < cert.serial_number < 2**128


def test_private_keys_use_the_pem_labels_talos_reads(bundle):
    labels = {attr: pem_decode(getattr(bundle.certs, attr).key.reveal())[0] for attr, _, _ in CAS}
    assert labels == {
        "etcd": "EC PRIVATE KEY",
        "k8s": "EC PRIVATE KEY",
        "k8s_aggregator": "EC PRIVATE KEY",
        "os": "ED25519 PRIVATE KEY",
    }
    for attr, _, _ in CAS:
        assert pem_decode(getattr(bundle.certs, attr).crt)[0] == "CERTIFICATE"


def test_service_account_key_is_rsa_4096_pkcs1_as_talos_1_7_and_later(bundle):
    pem = bundle.certs.k8s_service_account.reveal()
    assert pem_decode(pem)[0] == "RSA PRIVATE KEY"
    key = load_private_key(pem)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 4096 and key.public_key().public_numbers().e == 65537


def test_tokens_and_secrets_have_talos_shapes(bundle):
    assert TOKEN.match(bundle.secrets.bootstrap_token.reveal())
    assert TOKEN.match(bundle.trustd_info.token.reveal())
    assert len(base64.urlsafe_b64decode(bundle.cluster.id.reveal())) == 32
    assert len(base64.b64decode(bundle.cluster.secret.reveal(), validate=True)) == 32
    assert bundle.secrets.secretbox_encryption_secret is not None
    assert len(base64.b64decode(bundle.secrets.secretbox_encryption_secret.reveal(), validate=True)) == 32
    assert bundle.secrets.aescbc_encryption_secret is None


def test_bundle_repr_shows_no_secret(bundle):
    text = repr(bundle) + str(bundle)
    assert bundle.cluster.secret.reveal() not in text
    assert bundle.certs.os.key.reveal() not in text
    assert "Secret(***)" in text


def test_seeded_bundle_is_reproducible(seeded_bundle):
    # Recorded once; a seeded bundle must come out byte-for-byte the same on every run and machine.
    assert bundle_fingerprint(seeded_bundle) == SEEDED_FINGERPRINT


def test_seeded_service_account_key_is_a_working_rsa_4096_key(seeded_bundle):
    key = load_private_key(seeded_bundle.certs.k8s_service_account.reveal())
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 4096
    signature = key.sign(b"token", padding.PKCS1v15(), hashes.SHA256())
    key.public_key().verify(signature, b"token", padding.PKCS1v15(), hashes.SHA256())


def test_same_seed_gives_the_same_ca_and_another_seed_another():
    def ca(seed: int) -> PemPair:
        return new_ca(GENERATED_AT, Entropy(random.Random(seed)), algorithm="ecdsa", organization="etcd")

    assert ca(1) == ca(1)
    assert ca(1) != ca(2)


def test_unseeded_bundles_differ(bundle):
    assert generate_bundle(GENERATED_AT) != bundle


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_bundle(datetime(2025, 1, 1))
