"""A generated bundle has Talos v1.11's certificates, keys and token shapes."""

from __future__ import annotations

import base64
import datetime as dt
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
from talos_testdata import FIXTURE_BUNDLE, GENERATED_AT

from runner.core.talos import SecretsBundle, bundle_from_yaml, bundle_to_yaml, generate_bundle
from runner.core.talos.pem import load_private_key, pem_decode

TOKEN = re.compile(r"^[0-9a-z]{6}\.[0-9a-z]{16}$")
# (bundle attribute, expected subject organization or None for an empty subject, key type)
CAS = [
    ("etcd", "etcd", ec.EllipticCurvePrivateKey),
    ("k8s", "kubernetes", ec.EllipticCurvePrivateKey),
    ("k8s_aggregator", None, ec.EllipticCurvePrivateKey),
    ("os", "talos", ed25519.Ed25519PrivateKey),
]


def _cert(bundle: SecretsBundle, attr: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(getattr(bundle.certs, attr).crt.encode())


@pytest.mark.parametrize(("attr", "organization", "key_type"), CAS)
def test_each_ca_is_self_signed_with_talos_subject_and_key_type(any_bundle, attr, organization, key_type):
    cert = _cert(any_bundle, attr)
    key = load_private_key(getattr(any_bundle.certs, attr).key.reveal())
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
def test_each_ca_has_talos_extensions_and_ten_year_validity(any_bundle, attr, organization, key_type):
    cert = _cert(any_bundle, attr)
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


def test_private_keys_use_the_pem_labels_talos_reads(any_bundle):
    labels = {attr: pem_decode(getattr(any_bundle.certs, attr).key.reveal())[0] for attr, _, _ in CAS}
    assert labels == {
        "etcd": "EC PRIVATE KEY",
        "k8s": "EC PRIVATE KEY",
        "k8s_aggregator": "EC PRIVATE KEY",
        "os": "ED25519 PRIVATE KEY",
    }
    for attr, _, _ in CAS:
        assert pem_decode(getattr(any_bundle.certs, attr).crt)[0] == "CERTIFICATE"


def test_service_account_key_is_rsa_4096_pkcs1_as_talos_1_7_and_later(any_bundle):
    pem = any_bundle.certs.k8s_service_account.reveal()
    assert pem_decode(pem)[0] == "RSA PRIVATE KEY"
    key = load_private_key(pem)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 4096 and key.public_key().public_numbers().e == 65537


def test_tokens_and_secrets_have_talos_shapes(any_bundle):
    assert TOKEN.match(any_bundle.secrets.bootstrap_token.reveal())
    assert TOKEN.match(any_bundle.trustd_info.token.reveal())
    assert len(base64.urlsafe_b64decode(any_bundle.cluster.id.reveal())) == 32
    assert len(base64.b64decode(any_bundle.cluster.secret.reveal(), validate=True)) == 32
    assert any_bundle.secrets.secretbox_encryption_secret is not None
    assert len(base64.b64decode(any_bundle.secrets.secretbox_encryption_secret.reveal(), validate=True)) == 32
    assert any_bundle.secrets.aescbc_encryption_secret is None


def test_bundle_repr_shows_no_secret(bundle):
    text = repr(bundle) + str(bundle)
    assert bundle.cluster.secret.reveal() not in text
    assert bundle.certs.os.key.reveal() not in text
    assert "Secret(***)" in text


def test_service_account_key_signs_and_its_public_half_verifies(any_bundle):
    key = load_private_key(any_bundle.certs.k8s_service_account.reveal())
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(b"token", padding.PKCS1v15(), hashes.SHA256())
    key.public_key().verify(signature, b"token", padding.PKCS1v15(), hashes.SHA256())


def _leaf_signed_by(ca_cert: x509.Certificate, ca_key: object) -> x509.Certificate:
    """A client certificate issued by the CA's key, as trustd or talosctl would get one."""
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "os:admin")]))
        .issuer_name(ca_cert.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
    )
    algorithm = None if isinstance(ca_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(ca_key, algorithm)  # type: ignore[arg-type]


@pytest.mark.parametrize(("attr", "organization", "key_type"), CAS)
def test_certificates_issued_with_each_ca_key_chain_to_its_ca(any_bundle, attr, organization, key_type, tmp_path):
    """Checked by two independent implementations: `cryptography` and the `openssl` command."""
    ca_cert = _cert(any_bundle, attr)
    leaf = _leaf_signed_by(ca_cert, load_private_key(getattr(any_bundle.certs, attr).key.reveal()))
    leaf.verify_directly_issued_by(ca_cert)
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    ca_file, leaf_file = tmp_path / "ca.pem", tmp_path / "leaf.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    leaf_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    checked = subprocess.run(
        [openssl, "verify", "-CAfile", str(ca_file), str(leaf_file)], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0 and checked.stdout.strip() == f"{leaf_file}: OK", checked.stderr


def test_every_ca_and_key_of_a_bundle_is_its_own(any_bundle):
    """Five distinct keys and four distinct CA certificates: nothing reused between roles."""
    certs = any_bundle.certs
    keys = [getattr(certs, attr).key.reveal() for attr, _, _ in CAS] + [certs.k8s_service_account.reveal()]
    assert len(set(keys)) == 5
    assert len({_cert(any_bundle, attr).serial_number for attr, _, _ in CAS}) == 4
    ids = {_cert(any_bundle, a).extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value for a, _, _ in CAS}
    assert len(ids) == 4


def test_fixture_file_reads_and_writes_back_byte_for_byte():
    text = Path(FIXTURE_BUNDLE).read_text(encoding="utf-8")
    assert bundle_to_yaml(bundle_from_yaml(text)) == text


def test_generated_bundles_differ(bundle, fresh_bundle):
    assert fresh_bundle != bundle
    assert fresh_bundle.secrets.bootstrap_token != bundle.secrets.bootstrap_token
    assert fresh_bundle.certs.os.key.reveal() != bundle.certs.os.key.reveal()


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_bundle(datetime(2025, 1, 1))
