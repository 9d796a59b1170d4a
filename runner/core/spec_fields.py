"""Field types of the spec whose limits come from the systems that receive the values.

A value the real host would refuse is refused here, with the spec's file and line, instead of failing
halfway through an apply:

- Linux interface names (a Proxmox bridge is one, and so is the NIC Talos configures): the kernel's
  `dev_valid_name` (net/core/dev.c) wants 1 to IFNAMSIZ-1 = 15 bytes, no '/', ':' or whitespace, and
  neither "." nor "..". Proxmox's `pve-bridge-id` format (pve-common src/PVE/JSONSchema.pm) further
  limits a bridge to `[-_.\\w]+`.
- URLs the runner connects to: http or https with a host. Flux's GitRepository CRD (vendored
  gotk-components.yaml v2.3.0, `spec.url`) takes `^(http|https|ssh)://.*$`, so a Flux URL may be ssh:// too.
- The ACME contact: what Let's Encrypt accepts as an account's `mailto:` contact (see acme_contact.py).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from runner.core.acme_contact import contact_problem

IFNAMSIZ = 16  # include/uapi/linux/if.h
_BRIDGE_CHARS = re.compile(r"[-_.A-Za-z0-9]+")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"(\[[0-9A-Fa-f:.]+\]|{_LABEL}(\.{_LABEL})*)"
MAX_URL_CHARS = 2048
_URL = re.compile(rf"(?P<scheme>[a-z][a-z0-9+.-]*)://([^/?#@\s]+@)?{_HOST}(:(?P<port>[0-9]{{1,5}}))?([/?#][^\s]*)?")


def _interface_name(value: str) -> str:
    if not value or len(value.encode("utf-8")) >= IFNAMSIZ:
        raise ValueError(f"an interface name has 1 to {IFNAMSIZ - 1} characters")
    if value in (".", "..") or any(c in "/:" or c.isspace() or not c.isprintable() for c in value):
        raise ValueError("an interface name may not be '.' or '..' nor contain '/', ':' or spaces")
    return value


def _bridge_name(value: str) -> str:
    _interface_name(value)
    if not _BRIDGE_CHARS.fullmatch(value):
        raise ValueError("a Proxmox bridge name has only letters, digits and '-', '_', '.' (e.g. vmbr0)")
    return value


def _url(schemes: tuple[str, ...]) -> AfterValidator:
    def check(value: str) -> str:
        match = _URL.fullmatch(value) if len(value) <= MAX_URL_CHARS else None
        if match is None or match.group("scheme") not in schemes:
            raise ValueError(f"not a URL of the form {' or '.join(f'{s}://host[:port][/path]' for s in schemes)}")
        port = match.group("port")
        if port is not None and not 0 < int(port) <= 65535:
            raise ValueError(f"port {port} is out of range (1-65535)")
        return value

    return AfterValidator(check)


def _acme_email(value: str) -> str:
    why = contact_problem(value)
    if why is not None:
        raise ValueError(f"Let's Encrypt refuses this ACME contact: {why}")
    return value


InterfaceName = Annotated[str, AfterValidator(_interface_name)]
AcmeEmail = Annotated[str, AfterValidator(_acme_email)]
BridgeName = Annotated[str, AfterValidator(_bridge_name)]
HttpUrl = Annotated[str, _url(("https", "http"))]
GitUrl = Annotated[str, _url(("https", "http", "ssh"))]
