"""The Talos secrets bundle: everything a cluster's machine configs are derived from.

Same shape as Talos v1.11 `secrets.Bundle` (pkg/machinery/config/generate/secrets), which is what
`talosctl gen secrets` writes. Every private value is a `Secret`; certificates are public PEM text.
Generated once by `runner init`, then kept SOPS-encrypted in the cluster's repo.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from runner.core.secret import Secret
from runner.core.talos.pem import private_key_pem
from runner.core.talos.pki import PemPair, new_ca

# constants.DefaultClusterIDSize / DefaultClusterSecretSize; cis.CreateEncryptionToken uses 32 too.
CLUSTER_ID_BYTES = 32
CLUSTER_SECRET_BYTES = 32
ENCRYPTION_SECRET_BYTES = 32
# Talos >= 1.7 signs service-account tokens with an RSA 4096 key (`UseRSAServiceAccountKey`).
SERVICE_ACCOUNT_KEY_BITS = 4096
RSA_PUBLIC_EXPONENT = 65537
# Talos (like kubeadm) builds bootstrap and trustd tokens from this alphabet: `[a-z0-9]{6}.[a-z0-9]{16}`.
TOKEN_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class CertAndKey:
    """`x509.PEMEncodedCertificateAndKey`: a CA certificate (public) and its private key."""

    crt: str
    key: Secret


@dataclass(frozen=True)
class ClusterSecrets:
    id: Secret  # base64url of 32 random bytes; identifies the cluster to the discovery service
    secret: Secret  # base64 of 32 random bytes; encrypts discovery data


@dataclass(frozen=True)
class KubeSecrets:
    bootstrap_token: Secret
    # Talos >= 1.3 uses secretbox; bundles imported from older clusters may carry aescbc instead.
    secretbox_encryption_secret: Secret | None = None
    aescbc_encryption_secret: Secret | None = None


@dataclass(frozen=True)
class TrustdInfo:
    token: Secret


@dataclass(frozen=True)
class Certs:
    etcd: CertAndKey
    k8s: CertAndKey
    k8s_aggregator: CertAndKey
    k8s_service_account: Secret  # a key only (PEM); the API server signs service-account tokens with it
    os: CertAndKey


@dataclass(frozen=True)
class SecretsBundle:
    cluster: ClusterSecrets
    secrets: KubeSecrets
    trustd_info: TrustdInfo
    certs: Certs


def _as_secret(pair: PemPair) -> CertAndKey:
    return CertAndKey(crt=pair.crt, key=Secret(pair.key))


def _random_chars(length: int) -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(length))


def _token() -> str:
    """A `abcdef.0123456789abcdef` token, every character drawn uniformly from the OS's randomness."""
    return f"{_random_chars(6)}.{_random_chars(16)}"


def generate_bundle(now: datetime) -> SecretsBundle:
    """A fresh bundle as `talosctl gen secrets` (Talos v1.11) makes one; `now` (aware) is the CAs' notBefore."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("generate_bundle: `now` must be timezone-aware (e.g. datetime.now(UTC))")
    # Same order of generation as Bundle.populate, so a reader can follow along.
    etcd = new_ca(now, algorithm="ecdsa", organization="etcd")
    k8s = new_ca(now, algorithm="ecdsa", organization="kubernetes")
    aggregator = new_ca(now, algorithm="ecdsa", organization=None)
    rsa_key = rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=SERVICE_ACCOUNT_KEY_BITS)
    service_account = private_key_pem(rsa_key)
    talos_os = new_ca(now, algorithm="ed25519", organization="talos")
    bootstrap_token = _token()
    secretbox = base64.b64encode(secrets.token_bytes(ENCRYPTION_SECRET_BYTES)).decode("ascii")
    trustd_token = _token()
    cluster_id = base64.urlsafe_b64encode(secrets.token_bytes(CLUSTER_ID_BYTES)).decode("ascii")
    cluster_secret = base64.b64encode(secrets.token_bytes(CLUSTER_SECRET_BYTES)).decode("ascii")
    return SecretsBundle(
        cluster=ClusterSecrets(id=Secret(cluster_id), secret=Secret(cluster_secret)),
        secrets=KubeSecrets(bootstrap_token=Secret(bootstrap_token), secretbox_encryption_secret=Secret(secretbox)),
        trustd_info=TrustdInfo(token=Secret(trustd_token)),
        certs=Certs(
            etcd=_as_secret(etcd),
            k8s=_as_secret(k8s),
            k8s_aggregator=_as_secret(aggregator),
            k8s_service_account=Secret(service_account),
            os=_as_secret(talos_os),
        ),
    )
