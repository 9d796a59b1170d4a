"""Machine-config documents as text, as a hash, and as something safe to show.

`config_hash` is computed over revealed values in canonical JSON, so the documents built by
`machine_config` (holding `Secret`s) and the same documents parsed back from YAML hash the same:
the Talos twin and the runner can compare what a node runs with what the repo wants. It hashes the
documents as Talos reads them: two configs Talos runs the same way (one written by another generator, say)
hash the same, so the plan applies none over the other.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.core.secret import REDACTED, Secret, reveal_tree
from runner.core.talos.machineconfig import machine_config
from runner.core.talos.node_input import MachineConfigInput
from runner.core.talos.secrets_bundle import SecretsBundle
from runner.core.talos.yamlio import dump_documents_fast, load_documents

# Keys whose values are secret wherever they appear in a Talos config: trustd/bootstrap tokens,
# cluster id and secret, encryption secrets, every CA private key ("key" under ca/aggregatorCA/...).
SECRET_KEYS = frozenset(
    {"token", "secret", "id", "key", "secretboxEncryptionSecret", "aescbcEncryptionSecret", "bootstraptoken"}
)
# Environment entries of extension services (`NAME=value`) whose value is a credential.
_SECRET_ENV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD)[A-Za-z0-9_]*)=(.+)$", re.IGNORECASE)


def _secret_env(text: str) -> re.Match[str] | None:
    # Most strings hold no `=`, or are base64 whose part before it is no identifier: skip the regex for them
    # (it backtracks over every character of a long certificate).
    name, sep, _ = text.partition("=")
    return _SECRET_ENV.match(text) if sep and name.isidentifier() else None


def render_machine_config(node: MachineConfigInput, bundle: SecretsBundle) -> str:
    """The node's config as multi-document YAML with secrets revealed; same inputs, same bytes."""
    return render_documents(machine_config(node, bundle))


def render_documents(documents: Sequence[Mapping[str, Any]]) -> str:
    return dump_documents_fast(reveal_tree(list(documents)))


@dataclass(frozen=True)
class RenderedConfig:
    """Everything a reconcile needs of one node's config, computed in one pass over the documents."""

    text: str  # secrets revealed: wrap it in a Secret
    hash: str
    secrets: frozenset[str]
    redacted: list[Any]


def render_config(documents: Sequence[Mapping[str, Any]]) -> RenderedConfig:
    """Text, hash, secret values and redacted copy; the same as render_documents, config_hash, secret_strings and
    redacted each give, with the documents revealed and masked once (a cold plan renders one config per node)."""
    plain = reveal_tree(list(documents))
    found: set[str] = set()
    masked = [_redact(doc, None, found) for doc in documents]
    return RenderedConfig(dump_documents_fast(plain), _hash(plain), frozenset(found), masked)


def parse_machine_config(text: str) -> list[dict[str, Any]]:
    """Documents of a machine-config file (plain values); ValueError when it is not YAML mappings."""
    documents = load_documents(text)
    if not all(isinstance(doc, dict) for doc in documents):
        raise ValueError("every machine-config document must be a mapping")
    return documents


def config_hash(documents: Sequence[Mapping[str, Any]]) -> str:
    """sha256 hex over canonical JSON of the revealed documents, in order (for drift detection)."""
    return _hash(reveal_tree(list(documents)))


def _endpoint_host(endpoint: str) -> str | None:
    """`https://10.0.0.20:6443` -> 10.0.0.20, `https://[fd00::20]:6443` -> fd00::20 (no URL parser: core does no I/O
    and needs none)."""
    if "://" not in endpoint:
        return None
    authority = endpoint.split("://", 1)[1].split("/", 1)[0]
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0] or None
    return authority.rsplit(":", 1)[0] if ":" in authority else authority or None


def as_talos_reads(documents: Sequence[Any]) -> list[Any]:
    """The documents with what Talos reads the same written one way:
    - the API server's certSANs as a set that holds the endpoint's host: machined always puts that host in the
      certificate (KubernetesCertSANs controller, secrets/kubernetes_cert_sans.go@v1.11.6 and @v1.13.9), which
      the v1.11 generator lists and v1.12's no longer does;
    - a HostnameConfig's `auto: off`, the enum's zero value (nethelpers.AutoHostnameKind@v1.13.9), as no `auto`.
    """
    out: list[Any] = []
    for doc in documents:
        if isinstance(doc, dict) and doc.get("kind") == "HostnameConfig" and doc.get("auto") == "off":
            doc = {k: v for k, v in doc.items() if k != "auto"}
        elif isinstance(doc, dict) and not doc.get("kind"):
            cluster = doc.get("cluster")
            api_server = cluster.get("apiServer") if isinstance(cluster, dict) else None
            if isinstance(cluster, dict) and isinstance(api_server, dict):
                endpoint = str((cluster.get("controlPlane") or {}).get("endpoint") or "")
                host = _endpoint_host(endpoint)
                sans = sorted({*(str(s) for s in api_server.get("certSANs") or []), *([host] if host else [])})
                doc = {**doc, "cluster": {**cluster, "apiServer": {**api_server, "certSANs": sans}}}
        out.append(doc)
    return out


def _hash(plain: Any) -> str:
    plain = as_talos_reads(plain) if isinstance(plain, list) else plain
    canonical = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def redacted(documents: Sequence[Mapping[str, Any]]) -> list[Any]:
    """A copy with every secret value replaced by "***" (for plans and diffs).

    Works on generated documents (`Secret` leaves) and on plain ones parsed from YAML (by key name).
    Empty values stay empty, so a worker's `key: ""` still shows that it carries no CA key.
    """
    return [_redact(doc, None, None) for doc in documents]


def _redact(value: Any, key: str | None, found: set[str] | None) -> Any:
    """`value` with its secrets masked; each hidden value goes into `found` (when given)."""
    if isinstance(value, dict):  # before the Mapping ABC: the common case, and a much cheaper check
        return {k: _redact(v, str(k), found) for k, v in value.items()}
    if isinstance(value, Secret):
        plain = value.reveal()
        env = _secret_env(plain)
        masked = f"{env[1]}={REDACTED}" if env else (REDACTED if plain else "")
    elif isinstance(value, Mapping):
        return {k: _redact(v, str(k), found) for k, v in value.items()}
    elif isinstance(value, list | tuple):
        return [_redact(v, key, found) for v in value]
    elif isinstance(value, str):
        plain, env = value, None
        if key in SECRET_KEYS and value:
            masked = REDACTED
        elif env := _secret_env(value):
            masked = f"{env[1]}={REDACTED}"
        else:
            return value
    else:
        return value
    if found is not None and plain != masked:
        found.add(env[2] if env else plain)
    return masked


def secret_strings(documents: Sequence[Mapping[str, Any]]) -> set[str]:
    """Every secret value in the documents (what `redacted` hides), for a `Redactor`."""
    found: set[str] = set()
    for doc in documents:
        _redact(doc, None, found)
    return found
