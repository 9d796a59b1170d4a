"""Machine-config documents as text, as a hash, and as something safe to show.

`config_hash` is computed over revealed values in canonical JSON, so the documents built by
`machine_config` (holding `Secret`s) and the same documents parsed back from YAML hash the same:
the Talos twin and the runner can compare what a node runs with what the repo wants.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from runner.core.secret import REDACTED, Secret, reveal_tree
from runner.core.talos.machineconfig import machine_config
from runner.core.talos.node_input import MachineConfigInput
from runner.core.talos.secrets_bundle import SecretsBundle
from runner.core.talos.yamlio import dump_documents, load_documents

# Keys whose values are secret wherever they appear in a Talos config: trustd/bootstrap tokens,
# cluster id and secret, encryption secrets, every CA private key ("key" under ca/aggregatorCA/...).
SECRET_KEYS = frozenset(
    {"token", "secret", "id", "key", "secretboxEncryptionSecret", "aescbcEncryptionSecret", "bootstraptoken"}
)
# Environment entries of extension services (`NAME=value`) whose value is a credential.
_SECRET_ENV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD)[A-Za-z0-9_]*)=(.+)$", re.IGNORECASE)


def render_machine_config(node: MachineConfigInput, bundle: SecretsBundle) -> str:
    """The node's config as multi-document YAML with secrets revealed; same inputs, same bytes."""
    return render_documents(machine_config(node, bundle))


def render_documents(documents: Sequence[Mapping[str, Any]]) -> str:
    return dump_documents(reveal_tree(list(documents)))


def parse_machine_config(text: str) -> list[dict[str, Any]]:
    """Documents of a machine-config file (plain values); ValueError when it is not YAML mappings."""
    documents = load_documents(text)
    if not all(isinstance(doc, dict) for doc in documents):
        raise ValueError("every machine-config document must be a mapping")
    return documents


def config_hash(documents: Sequence[Mapping[str, Any]]) -> str:
    """sha256 hex over canonical JSON of the revealed documents, in order (for drift detection)."""
    canonical = json.dumps(reveal_tree(list(documents)), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def redacted(documents: Sequence[Mapping[str, Any]]) -> list[Any]:
    """A copy with every secret value replaced by "***" (for plans and diffs).

    Works on generated documents (`Secret` leaves) and on plain ones parsed from YAML (by key name).
    Empty values stay empty, so a worker's `key: ""` still shows that it carries no CA key.
    """
    return [_redact(doc, None) for doc in documents]


def _redact(value: Any, key: str | None) -> Any:
    if isinstance(value, Secret):
        env = _SECRET_ENV.match(value.reveal())
        return f"{env[1]}={REDACTED}" if env else (REDACTED if value.reveal() else "")
    if isinstance(value, Mapping):
        return {k: _redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v, key) for v in value]
    if isinstance(value, str):
        if key in SECRET_KEYS and value:
            return REDACTED
        env = _SECRET_ENV.match(value)
        if env:
            return f"{env[1]}={REDACTED}"
    return value


def secret_strings(documents: Sequence[Mapping[str, Any]]) -> set[str]:
    """Every secret value in the documents (what `redacted` hides), for a `Redactor`."""
    found: set[str] = set()

    def walk(plain: Any, masked: Any) -> None:
        if isinstance(plain, Mapping):
            for k in plain:
                walk(plain[k], masked[k])
        elif isinstance(plain, list):
            for p, m in zip(plain, masked, strict=True):
                walk(p, m)
        elif isinstance(plain, str) and plain != masked:
            found.add(plain.split("=", 1)[1] if isinstance(masked, str) and masked.endswith("=" + REDACTED) else plain)

    walk(reveal_tree(list(documents)), redacted(documents))
    return found
