"""Decoding and validating an applied machine config the way a node of a given Talos version does.

Talos decodes every YAML document strictly (unknown keys are an error), picks the document type
from `apiVersion`/`kind` (the legacy v1alpha1 document has neither, only `version`), refuses kinds its
release does not register, and then runs the v1alpha1 validation rules and, from v1.12, those of the
multi-document network configs (network_config.py). What a version knows comes from its vendored schema.
Messages follow Talos' wording so errors read like the real ones.
"""

from __future__ import annotations

import binascii
import io
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from runner.lab.talos import network_config, pki
from runner.lab.talos.schema_keys import MINORS, V1ALPHA1_DEF, document_def, minor_of, unknown_keys

_IMAGE_TAG = re.compile(r"^[a-z0-9.\-]+(?::\d+)?(?:/[a-z0-9._\-]+)+:(v\d+\.\d+\.\d+[\w.\-]*)$")
# Keys Talos still decodes but leaves out of the published schema.
_HIDDEN_V1ALPHA1_KEYS = {"persist"}


class ConfigDecodeError(Exception):
    """The bytes are not a machine config Talos can decode."""


class ConfigInvalid(Exception):
    """Decoded, but the v1alpha1 validation rules reject it."""


@dataclass(frozen=True)
class MachineConfig:
    raw: str
    machine_type: str  # controlplane | worker | init
    os_ca: x509.Certificate | None
    cluster_id: str
    cluster_name: str
    endpoint: str
    k8s_ca_crt: bytes  # PEM
    k8s_ca_key: bytes  # PEM, empty on workers
    install_image: str
    hostname: str | None
    documents: list[dict[str, Any]] = field(default_factory=list)
    # machine.network.interfaces and LinkConfig documents: (link name, its addresses without prefix length)
    interfaces: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def is_controlplane(self) -> bool:
        return self.machine_type in ("controlplane", "init")


def multierror(errors: list[str]) -> str:
    """hashicorp/go-multierror's default format, which Talos returns for validation failures."""
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} {noun} occurred:\n" + "".join(f"\t* {e}\n" for e in errors) + "\n"


def _dump(value: Any) -> str:
    yaml = YAML()
    yaml.indent(mapping=4, sequence=4, offset=2)  # Go yaml.v3 indents by four
    out = io.StringIO()
    yaml.dump(value, out)
    return out.getvalue()


def decode(data: str, version: str) -> list[dict[str, Any]]:
    """The documents, decoded as the Talos `version` decodes them (its registry, its known keys)."""
    minor = minor_of(version)
    if minor is None:
        raise ConfigDecodeError(f"the lab imitates Talos {', '.join(MINORS)}, not {version}")
    yaml = YAML(typ="safe")
    try:
        docs = [d for d in yaml.load_all(data) if d is not None]
    except YAMLError as e:
        raise ConfigDecodeError(f"decode error: yaml: {str(e).splitlines()[0]}") from e
    if not docs:
        raise ConfigDecodeError("no configuration data read")
    seen: set[tuple[str, str, str]] = set()
    for doc in docs:
        if not isinstance(doc, dict):
            raise ConfigDecodeError("missing kind")
        ident = (str(doc.get("apiVersion", "")), str(doc.get("kind", "v1alpha1")), str(doc.get("name", "")))
        if ident in seen:
            raise ConfigDecodeError(f"duplicate document {ident[0]}/{ident[1]}/{ident[2]} is not allowed")
        seen.add(ident)
        kind = doc.get("kind")
        api_version = doc.get("apiVersion") if kind is not None else doc.get("version")
        if kind is None and api_version is None and not {"machine", "cluster"} & doc.keys():
            raise ConfigDecodeError("missing kind")
        def_name = document_def(api_version, kind, minor)
        if def_name is None:  # internal/registry New: `%q %q: not registered`
            raise ConfigDecodeError(f'"{kind or ""}" "{api_version or ""}": not registered')
        extra = unknown_keys(doc, def_name, minor)
        if def_name == V1ALPHA1_DEF:
            extra = {k: v for k, v in extra.items() if k not in _HIDDEN_V1ALPHA1_KEYS}
        if extra:
            raise ConfigDecodeError("unknown keys found during decoding:\n" + _dump(extra))
    return docs


def _ca_cert(section: Any, where: str) -> x509.Certificate | None:
    if not isinstance(section, dict) or not section.get("crt"):
        return None
    try:
        return pki.load_certificate(pki.b64pem(str(section["crt"])))
    except (binascii.Error, ValueError) as e:
        raise ConfigDecodeError(f"{where}: illegal base64 data or certificate: {e}") from e


def _validate(doc: dict[str, Any], errors: list[str]) -> None:
    machine, cluster = doc.get("machine"), doc.get("cluster")
    if not isinstance(machine, dict):
        raise ConfigInvalid(multierror(["machine instructions are required"]))
    if not isinstance(cluster, dict):
        errors.append("cluster instructions are required")
    elif not isinstance(cluster.get("controlPlane"), dict) or not cluster["controlPlane"].get("endpoint"):
        errors.append("cluster controlplane endpoint is required")
    else:
        url = urlsplit(str(cluster["controlPlane"]["endpoint"]))
        if url.scheme not in ("http", "https") or not url.hostname:
            errors.append(f'invalid controlplane endpoint: invalid URI "{cluster["controlPlane"]["endpoint"]}"')
    install = machine.get("install")
    if not isinstance(install, dict):
        errors.append('install instructions are required in "metal" mode')
    elif not install.get("disk") and not install.get("diskSelector"):
        errors.append("either install disk or diskSelector should be defined")
    ca = machine.get("ca") if isinstance(machine.get("ca"), dict) else None
    if ca is None and not machine.get("acceptedCAs"):
        errors.append("issuing CA or some accepted CAs are required (.machine.ca, machine.acceptedCAs)")
    machine_type = machine.get("type")
    cluster_ca = cluster.get("ca") if isinstance(cluster, dict) and isinstance(cluster.get("ca"), dict) else None
    if machine_type in ("controlplane", "init"):
        if ca is None:
            errors.append("issuing CA is required (.machine.ca)")
        elif not ca.get("key"):
            errors.append("issuing CA key is required for controlplane nodes (.machine.ca.key)")
    elif machine_type == "worker":
        if ca is not None and ca.get("key"):
            errors.append("issuing Talos API CA key is not allowed on non-controlplane nodes (.machine.ca)")
        if ca is not None and not ca.get("crt") and not machine.get("acceptedCAs"):
            errors.append(
                "trusted CA certificates are required on non-controlplane nodes (.machine.ca.crt, .machine.acceptedCAs)"
            )
        if cluster_ca is not None and cluster_ca.get("key"):
            errors.append("issuing Kubernetes API CA key is not allowed on non-controlplane nodes (.cluster.ca)")
    else:
        errors.append(f"unknown machine type {str(machine_type or '')!r}".replace("'", '"'))
    if doc.get("persist") is False:
        errors.append(".persist should be enabled")


def load(data: str, version: str) -> MachineConfig:
    """Decode + validate as a node running Talos `version`; raises ConfigDecodeError or ConfigInvalid with
    Talos' message."""
    docs = decode(data, version)
    v1 = [d for d in docs if "kind" not in d]
    if not v1:
        raise ConfigInvalid("the applied machine configuration doesn't contain v1alpha1 config")
    doc = v1[0]
    errors: list[str] = []
    _validate(doc, errors)
    if errors and minor_of(version) != MINORS[0]:
        # From v1.12 the container prefixes the v1alpha1 errors (container.go Validate: "v1alpha1.Config: %w").
        errors = [f"v1alpha1.Config: {multierror(errors)}"]
    errors += network_config.errors([d for d in docs if "kind" in d], doc)
    if errors:
        raise ConfigInvalid(multierror(errors))
    machine, cluster = doc["machine"], doc["cluster"]
    cluster_ca = cluster.get("ca") or {}
    try:
        k8s_crt = pki.b64pem(str(cluster_ca.get("crt", "")))
        k8s_key = pki.b64pem(str(cluster_ca.get("key", "")))
    except binascii.Error as e:
        raise ConfigDecodeError(f"cluster.ca: illegal base64 data: {e}") from e
    return MachineConfig(
        raw=data,
        machine_type=str(machine["type"]),
        os_ca=_ca_cert(machine.get("ca"), "machine.ca"),
        cluster_id=str(cluster.get("id", "")),
        cluster_name=str(cluster.get("clusterName", "")),
        endpoint=str(cluster["controlPlane"]["endpoint"]),
        k8s_ca_crt=k8s_crt,
        k8s_ca_key=k8s_key,
        install_image=str(machine["install"].get("image", "")),
        hostname=network_config.hostname(docs, doc),
        documents=docs,
        interfaces=network_config.links(docs, doc),
    )


def image_version(image: str) -> str | None:
    match = _IMAGE_TAG.match(image)
    return match.group(1) if match else None


def installer_version(data: str) -> str | None:
    """The Talos release a config's installer image (`machine.install.image`) names: what a node installed with
    it runs. None when the text names none."""
    try:
        docs = list(YAML(typ="safe").load_all(data))
    except YAMLError:
        return None
    for doc in docs:
        machine = doc.get("machine") if isinstance(doc, dict) else None
        install = machine.get("install") if isinstance(machine, dict) else None
        if isinstance(install, dict) and install.get("image"):
            return image_version(str(install["image"]))
    return None


# --- secure machine API -----------------------------------------------------------------------
