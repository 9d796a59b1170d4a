"""Client-side talosconfig handling, as pkg/machinery/client/config reads it."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # PyYAML (C loader): this runs in every twin talosctl process, so start-up time matters


class ClientError(Exception):
    """An error raised by talosctl itself before any call is made."""


@dataclass(frozen=True)
class Context:
    endpoints: list[str]
    nodes: list[str]
    ca_pem: str | None
    crt_pem: str | None
    key_pem: str | None


def default_path(flag: str) -> str:
    if flag:
        return flag
    if os.environ.get("TALOSCONFIG"):
        return os.environ["TALOSCONFIG"]
    return str(Path.home() / ".talos" / "config")


def _b64(value: Any, what: str) -> str | None:
    if not value:
        return None
    try:
        return base64.b64decode(str(value), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as e:
        raise ClientError(f"error constructing client: failed to decode {what}: {e}") from e


def load(path_flag: str, context_flag: str) -> Context:
    path = default_path(path_flag)
    try:
        raw = Path(path).read_text()
    except OSError as e:
        raise ClientError(
            f'failed to open config file "{path_flag}": open {path}: {(e.strerror or str(e)).lower()}'
        ) from e
    try:
        data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as e:
        raise ClientError(f'failed to open config file "{path_flag}": yaml: {str(e).splitlines()[0]}') from e
    name = context_flag or data.get("context") or ""
    contexts = data.get("contexts") or {}
    if not name or name not in contexts:
        raise ClientError("failed to resolve config context")
    ctx = contexts[name] or {}
    ca, crt, key = _b64(ctx.get("ca"), "ca"), _b64(ctx.get("crt"), "crt"), _b64(ctx.get("key"), "key")
    # The key pair is checked by the control server (tls.X509KeyPair's check in real talosctl): keeping
    # `cryptography` out of this process halves the start-up time of every twin talosctl call.
    return Context(list(ctx.get("endpoints") or []), list(ctx.get("nodes") or []), ca, crt, key)
