"""`talos_machine_secrets` as another tool makes it: CAs, keys and tokens from scratch, in Terraform's layout.

Rules from siderolabs/talos v1.11.6 `pkg/machinery/config/generate/secrets/` (what terraform-provider-talos
v0.9.0, built on that machinery, calls):
- ca.go: etcd CA (O=etcd), Kubernetes CA (O=kubernetes), aggregator CA (CN=front-proxy), all ECDSA P-256;
  the Talos OS CA (O=talos) Ed25519; ten years (secrets.go CAValidityTime = 87600h);
- bundle.go populate: the service-account key is RSA from v1.7 (UseRSAServiceAccountKey), the bootstrap and
  trustd tokens `genToken(6, 16)` (utils.go: [0-9a-z], rejection sampling), the cluster id 32 random bytes in
  URL-safe base64, the cluster secret and the secretbox key 32 random bytes in standard base64;
- siderolabs/crypto x509 PEM labels: "EC PRIVATE KEY" (SEC1), "ED25519 PRIVATE KEY" (PKCS#8 DER),
  "RSA PRIVATE KEY" (PKCS#1);
- terraform-provider-talos v0.9.0 pkg/talos/util.go secretsBundleTomachineSecrets: snake_case names, `cert`
  for the certificate, every PEM base64-encoded, and `client_configuration` holding an os:admin client
  certificate (NewAdminCertificateAndKey: Organization os:admin, digital signature, client auth, one year).
"""

from __future__ import annotations

import base64
import datetime
import secrets as pysecrets
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = datetime.timedelta(hours=87600)
ADMIN_VALIDITY = datetime.timedelta(days=365)  # constants.TalosAPIDefaultCertificateValidityDuration
TOKEN_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key_pem(key: PrivateKey) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        body = base64.encodebytes(der).decode("ascii").replace("\n", "")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return (
            "-----BEGIN ED25519 PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END ED25519 PRIVATE KEY-----\n"
        ).encode()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def _name(organization: str | None, common_name: str | None) -> x509.Name:
    attributes = []
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if common_name:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _sign_algorithm(key: PrivateKey) -> hashes.HashAlgorithm | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _ca(
    now: datetime.datetime, key: PrivateKey, organization: str | None = None, common_name: str | None = None
) -> dict[str, str]:
    """A self-signed CA (x509.NewSelfSignedCertificateAuthority): cert sign + digital signature, server and
    client auth, CA basic constraints."""
    name = _name(organization, common_name)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(int.from_bytes(pysecrets.token_bytes(16), "big") >> 1)
        .not_valid_before(now)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_signing_usage(cert_sign=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, _sign_algorithm(key))
    )
    return {"cert": _b64(cert.public_bytes(serialization.Encoding.PEM)), "key": _b64(_key_pem(key))}


def _signing_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """Digital signature, plus certificate signing for a CA: the only key usages talosctl's certificates carry."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _token_part(length: int) -> str:
    out = []
    while len(out) < length:
        byte = pysecrets.token_bytes(1)[0]
        if byte < 252:  # 252 = 7 * 36: keeps the characters equally likely
            out.append(TOKEN_CHARS[byte % len(TOKEN_CHARS)])
    return "".join(out)


def gen_token() -> str:
    return f"{_token_part(6)}.{_token_part(16)}"


def machine_secrets(now: datetime.datetime) -> dict[str, Any]:
    """The resource's `machine_secrets` attribute."""
    service_account = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    return {
        "cluster": {
            "id": base64.urlsafe_b64encode(pysecrets.token_bytes(32)).decode(),
            "secret": _b64(pysecrets.token_bytes(32)),
        },
        "secrets": {"bootstrap_token": gen_token(), "secretbox_encryption_secret": _b64(pysecrets.token_bytes(32))},
        "trustdinfo": {"token": gen_token()},
        "certs": {
            "etcd": _ca(now, ec.generate_private_key(ec.SECP256R1()), organization="etcd"),
            "k8s": _ca(now, ec.generate_private_key(ec.SECP256R1()), organization="kubernetes"),
            "k8s_aggregator": _ca(now, ec.generate_private_key(ec.SECP256R1()), common_name="front-proxy"),
            "k8s_serviceaccount": {"key": _b64(_key_pem(service_account))},
            "os": _ca(now, ed25519.Ed25519PrivateKey.generate(), organization="talos"),
        },
    }


def client_configuration(secrets: dict[str, Any], now: datetime.datetime) -> dict[str, str]:
    """The resource's `client_configuration`: an os:admin client certificate signed by the OS CA."""
    os_ca = secrets["certs"]["os"]
    ca_cert = x509.load_pem_x509_certificate(base64.b64decode(os_ca["cert"]))
    ca_key_der = base64.b64decode(base64.b64decode(os_ca["key"]).decode().split("-----")[2].strip())
    ca_key = serialization.load_der_private_key(ca_key_der, None)
    assert isinstance(ca_key, ed25519.Ed25519PrivateKey)
    key = ed25519.Ed25519PrivateKey.generate()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("os:admin", None))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(pysecrets.token_bytes(16), "big") >> 1)
        .not_valid_before(now)
        .not_valid_after(now + ADMIN_VALIDITY)
        .add_extension(_signing_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, None)
    )
    return {
        "ca_certificate": os_ca["cert"],
        "client_certificate": _b64(cert.public_bytes(serialization.Encoding.PEM)),
        "client_key": _b64(_key_pem(key)),
    }


def _type(value: Any) -> Any:
    """Terraform's JSON type of a value: ["object", {attribute: type}] or "string"."""
    if isinstance(value, dict):
        return ["object", {k: _type(v) for k, v in value.items()}]
    return "string"


def terraform_output_json(secrets: dict[str, Any]) -> dict[str, Any]:
    """`terraform output -json` of `output "machine_secrets" { value = ..., sensitive = true }`."""
    return {"machine_secrets": {"sensitive": True, "type": _type(secrets), "value": secrets}}
