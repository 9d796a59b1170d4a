"""The secrets bundle to and from the `talosctl gen secrets` file format.

Layout (yaml.v3, lower-cased Go field names): cluster{id,secret}, secrets{bootstraptoken,
aescbcencryptionsecret?, secretboxencryptionsecret?}, trustdinfo{token}, certs{etcd, k8s,
k8saggregator: {crt,key}, k8sserviceaccount: {key}, os: {crt,key}}; crt/key are base64 of the PEM.
Reading validates like Talos's `Bundle.Validate` and reports every problem at once, each naming the
field (messages follow Talos's wording).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from runner.core.errors import SecretsError
from runner.core.secret import Secret
from runner.core.talos.pem import load_certificate, load_private_key
from runner.core.talos.secrets_bundle import CertAndKey, Certs, ClusterSecrets, KubeSecrets, SecretsBundle, TrustdInfo
from runner.core.talos.yamlio import dump_documents, load_documents

_CA_FIELDS = (("etcd", "etcd"), ("k8s", "k8s"), ("k8saggregator", "k8s_aggregator"), ("os", "os"))


def _b64(pem: str) -> str:
    return base64.b64encode(pem.encode("ascii")).decode("ascii")


def bundle_to_dict(bundle: SecretsBundle) -> dict[str, Any]:
    """The bundle as plain data in the talosctl layout, secrets revealed (for writing the file)."""
    kube: dict[str, str] = {"bootstraptoken": bundle.secrets.bootstrap_token.reveal()}
    if bundle.secrets.aescbc_encryption_secret:
        kube["aescbcencryptionsecret"] = bundle.secrets.aescbc_encryption_secret.reveal()
    if bundle.secrets.secretbox_encryption_secret:
        kube["secretboxencryptionsecret"] = bundle.secrets.secretbox_encryption_secret.reveal()
    certs: dict[str, Any] = {}
    for yaml_name, attr in _CA_FIELDS:
        pair: CertAndKey = getattr(bundle.certs, attr)
        certs[yaml_name] = {"crt": _b64(pair.crt), "key": _b64(pair.key.reveal())}
    certs["k8sserviceaccount"] = {"key": _b64(bundle.certs.k8s_service_account.reveal())}
    certs["os"] = certs.pop("os")  # Go field order: etcd, k8s, k8saggregator, k8sserviceaccount, os
    return {
        "cluster": {"id": bundle.cluster.id.reveal(), "secret": bundle.cluster.secret.reveal()},
        "secrets": kube,
        "trustdinfo": {"token": bundle.trustd_info.token.reveal()},
        "certs": certs,
    }


def bundle_to_yaml(bundle: SecretsBundle) -> str:
    return dump_documents([bundle_to_dict(bundle)])


def bundle_fingerprint(bundle: SecretsBundle) -> str:
    """sha256 (hex) over the canonical JSON of the bundle: equal bundles, equal fingerprints.

    A one-way digest of high-entropy values, safe to log; changes whenever any secret changes.
    """
    canonical = json.dumps(bundle_to_dict(bundle), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _as_is(path: str) -> str:
    return path


class _Reader:
    """Walks the raw data collecting problems instead of stopping at the first one.

    `label` turns a talosctl-layout path into what the message shows: the same path for a talosctl file,
    the field's own name (and line) when the data was converted from another layout.
    """

    def __init__(self, label: Callable[[str], str] = _as_is) -> None:
        self.problems: list[str] = []
        self.label = label

    def section(self, data: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
        value = data.get(name)
        if value is None:
            self.problems.append(f"{self.label(name)} is required")
            return None
        if not isinstance(value, Mapping):
            self.problems.append(f"{self.label(name)} must be a mapping")
            return None
        return value

    def text(self, data: Mapping[str, Any], path: str, *, required: bool = True) -> str:
        value = data.get(path.rsplit(".", 1)[-1])
        if value in (None, ""):
            if required:
                self.problems.append(f"{self.label(path)} is required")
            return ""
        if not isinstance(value, str):
            self.problems.append(f"{self.label(path)} must be a string")
            return ""
        return value

    def pem(self, data: Mapping[str, Any], field: str, path: str) -> str:
        value = data.get(field)
        if not isinstance(value, str):
            return ""
        try:
            return base64.b64decode(value, validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError):
            self.problems.append(f"{self.label(f'{path}.{field}')} is not base64-encoded PEM")
            return ""

    def ca(self, certs: Mapping[str, Any], name: str) -> CertAndKey:
        raw = certs.get(name)
        if not isinstance(raw, Mapping):
            self.problems.append(f"{self.label(f'certs.{name}')} is required")
            return CertAndKey(crt="", key=Secret(""))
        crt, key = self.pem(raw, "crt", f"certs.{name}"), self.pem(raw, "key", f"certs.{name}")
        try:
            private = load_private_key(key)
            certificate = load_certificate(crt)
        except ValueError as exc:
            self.problems.append(f"{self.label(f'certs.{name}')} is invalid: {exc}")
        else:
            if certificate.public_key() != private.public_key():
                self.problems.append(f"{self.label(f'certs.{name}')} is invalid: key does not match the certificate")
        return CertAndKey(crt=crt, key=Secret(key))

    def key_only(self, certs: Mapping[str, Any], name: str) -> Secret:
        raw = certs.get(name)
        if not isinstance(raw, Mapping):
            self.problems.append(f"{self.label(f'certs.{name}')} is required")
            return Secret("")
        key = self.pem(raw, "key", f"certs.{name}")
        try:
            load_private_key(key)
        except ValueError as exc:
            self.problems.append(f"{self.label(f'certs.{name}.key')} is invalid: {exc}")
        return Secret(key)


def bundle_from_dict(data: Any, source: str = "secrets bundle", label: Callable[[str], str] = _as_is) -> SecretsBundle:
    """Validate and convert talosctl-layout data; SecretsError listing every problem, by field.

    `label` names a field in the messages (default: its talosctl path); never a value.
    """
    if not isinstance(data, Mapping):
        raise SecretsError(f"{source}: expected a mapping with cluster, secrets, trustdinfo and certs")
    read = _Reader(label)
    cluster = read.section(data, "cluster")
    cluster_id = read.text(cluster, "cluster.id") if cluster is not None else ""
    cluster_secret = read.text(cluster, "cluster.secret") if cluster is not None else ""
    kube = read.section(data, "secrets")
    bootstrap = secretbox = aescbc = ""
    if kube is not None:
        bootstrap = read.text(kube, "secrets.bootstraptoken")
        secretbox = read.text(kube, "secrets.secretboxencryptionsecret", required=False)
        aescbc = read.text(kube, "secrets.aescbcencryptionsecret", required=False)
        names = f"[{read.label('secrets.secretboxencryptionsecret')}, {read.label('secrets.aescbcencryptionsecret')}]"
        if not secretbox and not aescbc:
            read.problems.append(f"one of {names} is required")
        elif secretbox and aescbc:
            read.problems.append(f"only one of {names} is allowed")
    trustd = read.section(data, "trustdinfo")
    trustd_token = read.text(trustd, "trustdinfo.token") if trustd is not None else ""
    certs = read.section(data, "certs")
    if certs is None:
        raise SecretsError(f"{source}: " + "; ".join(read.problems))
    pairs = {attr: read.ca(certs, name) for name, attr in _CA_FIELDS[:3]}
    os_pair = read.ca(certs, "os")
    service_account = read.key_only(certs, "k8sserviceaccount")
    if read.problems:
        raise SecretsError(f"{source}: " + "; ".join(read.problems))
    return SecretsBundle(
        cluster=ClusterSecrets(id=Secret(cluster_id), secret=Secret(cluster_secret)),
        secrets=KubeSecrets(
            bootstrap_token=Secret(bootstrap),
            secretbox_encryption_secret=Secret(secretbox) if secretbox else None,
            aescbc_encryption_secret=Secret(aescbc) if aescbc else None,
        ),
        trustd_info=TrustdInfo(token=Secret(trustd_token)),
        certs=Certs(k8s_service_account=service_account, os=os_pair, **pairs),
    )


def bundle_from_yaml(text: str, source: str = "secrets bundle") -> SecretsBundle:
    """Read a `talosctl gen secrets` file; `source` (e.g. its path) prefixes every error."""
    try:
        documents = load_documents(text)
    except ValueError as exc:
        raise SecretsError(f"{source}: {exc}") from exc
    if len(documents) != 1:
        raise SecretsError(f"{source}: expected one YAML document, found {len(documents)}")
    return bundle_from_dict(documents[0], source)
