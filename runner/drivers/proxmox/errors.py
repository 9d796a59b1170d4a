"""Translate proxmoxer/requests failures into the runner's Transient/Permanent errors.

PVE answers 400 with `{"errors": {param: message}}` for bad parameters, 401 for bad credentials, 403
"Permission check failed (<path>, <privilege>)" for missing privileges, and 500 for everything a handler
dies with. The message is always in the HTTP status line (pve-http-server `response`); only from PVE 8.4
(pve-http-server 5.2.0) is it also the body's `message`. proxmoxer puts the status line's reason in its
exception's `content`, so both are read. Most 500s are passing trouble (locks, quorum, a busy storage) and
are retried; the few that describe a state retrying cannot change are listed below. A 403 never passes by
itself: it stops the run and names the path and privilege to grant.
"""

from __future__ import annotations

import json
import re
from typing import Any

import requests
from proxmoxer.core import ResourceException

from runner.core.errors import Permanent, RunnerError, Transient
from runner.drivers.proxmox.privileges import Need

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


PERMISSION = re.compile(r"Permission check failed(?: \((?P<path>/[^,)]*), (?P<privilege>[^)]+)\))?")


class PermissionDenied(Permanent):
    """A 403: the token lacks `privilege` on `path` (as PVE said, or as the call needs when PVE did not say)."""

    def __init__(self, message: str, path: str, privilege: str) -> None:
        super().__init__(message)
        self.path = path
        self.privilege = privilege


def _permission_denied(what: str, message: str, need: Need | None) -> RunnerError:
    match = PERMISSION.search(message)
    if match and match.group("path"):
        path, privilege, said = match.group("path"), match.group("privilege"), ""
    elif need is not None:  # PVE refused without naming it (create_vm does): say what the call needs
        path, privilege, said = need.path, need.privilege, f" (PVE said: {message or 'Permission check failed'})"
    else:
        return Permanent(f"Proxmox API {what}: permission denied (403) - {message}")
    return PermissionDenied(
        f"Proxmox API {what}: permission denied (403): the API token lacks {privilege} on {path}{said}"
        " - grant it (README: Prepare your Proxmox host)",
        path,
        privilege,
    )


def translate(exc: Exception, what: str, response_text: str | None = None, need: Need | None = None) -> RunnerError:
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
    # the body's `message` (PVE >= 8.4), else the status line's reason, which every PVE sends
    message = _message(response_text) or str(exc.content or exc.status_message).strip()
    errors: dict[str, Any] = exc.errors if isinstance(exc.errors, dict) else {}
    if status == 400 and errors:
        details = "; ".join(f"{param}: {text.strip()}" for param, text in sorted(errors.items()))
        return Permanent(f"Proxmox rejected {what}: parameter {details}")
    if status == 401:
        return Permanent(f"Proxmox API {what}: authentication failed (401) - check the API token id and secret")
    if status == 403:
        return _permission_denied(what, message, need)
    if status >= 500 and not PERMANENT_500.search(message):
        return Transient(f"Proxmox API {what}: {status} {message}")
    return Permanent(f"Proxmox API {what}: {status} {message}")
