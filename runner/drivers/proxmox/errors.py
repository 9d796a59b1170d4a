"""Translate proxmoxer/requests failures into the runner's Transient/Permanent errors.

PVE answers 400 with `{"errors": {param: message}}` for bad parameters, 401 for bad credentials, and 500
with a `message` for everything a handler dies with. Most 500s are passing trouble (locks, quorum, a busy
storage) and are retried; the few that describe a state retrying cannot change are listed below.
"""

from __future__ import annotations

import json
import re
from typing import Any

import requests
from proxmoxer.core import ResourceException

from runner.core.errors import Permanent, RunnerError, Transient

# handler messages (qemu-server, pve-storage, pve-guest-common) that mean "this will not change by itself"
PERMANENT_500 = re.compile(
    r"already exists on node|does not exist|checksum mismatch|is running - destroy failed|shrinking disks|\bnot running"
    r"|does not support|not configured for content-type|refusing to override|not a file based storage"
    r"|hostname lookup .* failed"
)


def _message(response_text: str | None) -> str:
    if not response_text:
        return ""
    try:
        return str(json.loads(response_text).get("message") or "").strip()
    except (ValueError, AttributeError):
        return ""


def translate(exc: Exception, what: str, response_text: str | None = None) -> RunnerError:
    """A runner error for a failed call; `what` names the call, e.g. 'POST /nodes/atlas/qemu'.

    proxmoxer keeps only the status line's reason (where real PVE puts its message); `response_text`, the
    body, supplies the JSON `message` when the reason is just the standard phrase.
    """
    if isinstance(exc, requests.Timeout):
        return Transient(f"Proxmox API {what}: timed out")
    if isinstance(exc, requests.ConnectionError):
        return Transient(f"Proxmox API {what}: connection failed ({type(exc).__name__})")
    if isinstance(exc, requests.RequestException):
        return Transient(f"Proxmox API {what}: {type(exc).__name__}")
    if not isinstance(exc, ResourceException):
        return Permanent(f"Proxmox API {what}: unexpected {type(exc).__name__}")
    status = int(exc.status_code)
    message = _message(response_text) or str(exc.content or exc.status_message)
    errors: dict[str, Any] = exc.errors if isinstance(exc.errors, dict) else {}
    if status == 400 and errors:
        details = "; ".join(f"{param}: {text.strip()}" for param, text in sorted(errors.items()))
        return Permanent(f"Proxmox rejected {what}: parameter {details}")
    if status == 401:
        return Permanent(f"Proxmox API {what}: authentication failed (401) - check the API token id and secret")
    if status == 403:
        return Permanent(f"Proxmox API {what}: permission denied (403) - {message}")
    if status >= 500 and not PERMANENT_500.search(message):
        return Transient(f"Proxmox API {what}: {status} {message}")
    return Permanent(f"Proxmox API {what}: {status} {message}")
