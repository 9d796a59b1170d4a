"""The spec's host limits refuse what the receiving system refuses, and nothing a real installation uses."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from runner.core.spec_fields import BridgeName, GitUrl, HttpUrl, InterfaceName

ACCEPTED = [
    (BridgeName, "vmbr0"),
    (BridgeName, "vmbr4094"),
    (BridgeName, "br_lan.10"),
    (InterfaceName, "eth0"),
    (InterfaceName, "enp0s18"),
    (InterfaceName, "ens18"),
    (InterfaceName, "a" * 15),
    (HttpUrl, "https://atlas:8006"),
    (HttpUrl, "https://pve.example.net:8006/"),
    (HttpUrl, "http://127.0.0.1:39121"),
    (HttpUrl, "https://[fd00::1]:8006"),
    (GitUrl, "https://git.example.net/home/cluster.git"),
    (GitUrl, "ssh://git@github.com/owner/repo.git"),
    (GitUrl, "http://127.0.0.1:3000/lab/home.git"),
]
REFUSED = [
    (BridgeName, "a" * 16),  # IFNAMSIZ - 1 = 15 is the longest
    (BridgeName, "vmbr 0"),
    (BridgeName, "vmbr/0"),
    (BridgeName, "vmbr0:1"),
    (BridgeName, "brücke"),  # pve-bridge-id: [-_.\w]
    (BridgeName, ""),
    (InterfaceName, ".."),
    (InterfaceName, "eth\t0"),
    (InterfaceName, "eth0\x00"),
    (HttpUrl, "atlas:8006"),
    (HttpUrl, "https://atlas:0"),
    (HttpUrl, "https://atlas:65536"),
    (HttpUrl, "https://user@"),
    (HttpUrl, "ssh://git@github.com/o/r.git"),  # the Proxmox API and the factory speak HTTP only
    (HttpUrl, "https://" + "a" * 3000 + ".net"),
    (GitUrl, "git@github.com:owner/repo.git"),  # Flux's GitRepository wants ssh://, not scp-style
    (GitUrl, "file:///srv/git/home.git"),
]


@pytest.mark.parametrize(("kind", "value"), ACCEPTED)
def test_real_installations_values_are_accepted(kind: object, value: str) -> None:
    assert TypeAdapter(kind).validate_python(value) == value


@pytest.mark.parametrize(("kind", "value"), REFUSED)
def test_values_the_host_refuses_are_refused(kind: object, value: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(kind).validate_python(value)
