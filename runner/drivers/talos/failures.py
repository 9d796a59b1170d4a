"""Turning a failed talosctl run into the runner's error tree, without leaking secrets.

talosctl reports gRPC errors as `rpc error: code = <Code> desc = <text>` and TLS/dial failures as
`code = Unavailable desc = connection error: ...`. TLS failures are checked first: they also say
"Unavailable", but retrying will not fix a certificate that the node does not trust.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from runner.core.errors import Permanent, RunnerError, Transient
from runner.core.secret import Redactor

TLS_MARKERS = ("x509:", "tls: bad certificate", "certificate required", "authentication handshake failed", "tls:")
TRANSIENT_MARKERS = (
    "connection refused",
    "no route to host",
    "i/o timeout",
    "connection reset",
    "code = Unavailable",
    "code = DeadlineExceeded",
    "deadline exceeded",
    "timed out",
)
_SECRET_KEY_HINTS = ("key", "token", "secret", "password", "auth")


def is_tls_failure(stderr: str) -> bool:
    return any(marker in stderr for marker in TLS_MARKERS)


def classify(command: str, ip: str, stderr: str, redact: Redactor) -> RunnerError:
    text = redact(stderr.strip()) or "(no output)"
    where = f"talosctl {command} on {ip}"
    if is_tls_failure(stderr):
        return Permanent(
            f"{where}: TLS handshake failed; the node does not accept the runner's client certificate or is not "
            f"signed by this cluster's OS CA (a node in maintenance mode only takes --insecure): {text}"
        )
    if any(marker in stderr for marker in TRANSIENT_MARKERS):
        return Transient(f"{where}: {text}")
    return Permanent(f"{where}: {text}")


def _looks_secret(value: str) -> bool:
    # Long runs of base64/token characters: keys, tokens, certificates (which are not secret but harmless).
    return len(value) >= 20 and all(c.isalnum() or c in "+/=._-" for c in value) and any(c.isdigit() for c in value)


def _walk(node: Any, key_hint: str, out: list[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _walk(v, str(k), out)
    elif isinstance(node, list):
        for v in node:
            _walk(v, key_hint, out)
    elif isinstance(node, str) and (any(h in key_hint.lower() for h in _SECRET_KEY_HINTS) or _looks_secret(node)):
        out.append(node)
        with contextlib.suppress(ValueError):
            out.append(base64.b64decode(node, validate=True).decode())


def config_secrets(config_yaml: str) -> Iterable[str]:
    """Values in a machine config that must not appear in errors: secret-named keys and token-like strings.

    The second rule also catches secrets under a misspelt key, which Talos echoes back verbatim in
    `unknown keys found during decoding`.
    """
    found: list[str] = []
    try:
        for doc in YAML(typ="safe").load_all(config_yaml):
            _walk(doc, "", found)
    except YAMLError:
        found.extend(word for word in config_yaml.split() if _looks_secret(word))
    for value in list(found):
        found.extend(line.strip() for line in value.splitlines() if len(line.strip()) >= 16)
    return found
