"""certificates.acmeEmail: refused at validate time exactly when Let's Encrypt would refuse the account's contact.

The runner's check (runner/core/acme_contact.py) and the lab's Let's Encrypt twin (runner/lab/kube/letsencrypt.py)
are two implementations of boulder's rules; they must agree on every address."""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.core.acme_contact import contact_problem, public_suffix
from runner.lab.kube import letsencrypt

VENDORED = Path(str(resources.files("runner.vendored").joinpath("publicsuffix")))


def _twin_refuses(address: str) -> str | None:
    try:
        letsencrypt.new_account([f"mailto:{address.lower()}"])
    except letsencrypt.AcmeError as e:
        return str(e)
    return None


@pytest.mark.parametrize(
    ("address", "boulder"),
    [
        ("admin@example.org", 'contact email has forbidden domain "example.org"'),
        ("admin@EXAMPLE.com", 'contact email has forbidden domain "example.com"'),
        ("ops@example.net", 'contact email has forbidden domain "example.net"'),
        ("ops@localhost", "Domain name needs at least one dot"),
        ("ops@atlas.local", "Domain name does not end with a valid public suffix (TLD)"),
        ("ops@cluster.internal", "Domain name does not end with a valid public suffix (TLD)"),
        ("ops@nas.lan", "Domain name does not end with a valid public suffix (TLD)"),
        ("ops@10.0.0.1", "Identifier type is DNS but value is an IP address"),
        ("ops@co.uk", "Domain name is an ICANN TLD"),
        ("ops@mail.example.org.", "Domain name ends in a dot"),
        ("ops@bad_name.org", "Domain name contains an invalid character"),
        ("ops@ab--cd.org", "Domain name contains an invalid label in a reserved format (R-LDH: '??--')"),
        ("ops?x@mail.org", "contact email contains a question mark"),
        ("not-an-address", "unable to parse email address"),
    ],
)
def test_what_lets_encrypt_refuses_validation_refuses(address: str, boulder: str) -> None:
    refused = _twin_refuses(address)
    assert refused is not None and refused.endswith(boulder), refused
    assert refused.startswith("400 urn:ietf:params:acme:error:invalidContact: Error validating contact(s) :: ")
    assert contact_problem(address) is not None


ACCEPTED = ["acme@atlas.home.arpa", "ops@mail.your-domain.org", "a.b+c@foo.co.uk", "x@www.ck", "y@xn--55qx5d.com.cn"]


@pytest.mark.parametrize("address", ACCEPTED)
def test_what_lets_encrypt_accepts_validation_accepts(address: str) -> None:
    assert _twin_refuses(address) is None
    assert contact_problem(address) is None


_LABELS = st.sampled_from(
    ["mail", "ops", "example", "local", "internal", "lan", "home", "arpa", "co", "uk", "com", "org", "net", "ck",
     "www", "dev", "xn--55qx5d", "cn", "a-b", "ab--c", "-x", "0", "1", "localhost", "test", "invalid", "io"]
)  # fmt: skip
_DOMAINS = st.one_of(
    st.lists(_LABELS, min_size=1, max_size=4).map(".".join),
    st.ip_addresses(v=4).map(str),
    st.sampled_from(["example.org", "mail.example.com.", "a..org", ""]),
)
_LOCALS = st.from_regex(r"[a-z0-9._+-]{1,8}", fullmatch=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(local=_LOCALS, domain=_DOMAINS)
def test_the_runner_and_the_lets_encrypt_twin_agree_on_every_address(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    assert (contact_problem(address) is None) == (_twin_refuses(address) is None), address


def test_the_public_suffix_list_follows_exceptions_and_wildcards() -> None:
    assert public_suffix("foo.co.uk") == "co.uk"
    assert public_suffix("a.b.ck") == "b.ck"  # *.ck
    assert public_suffix("www.ck") == "ck"  # !www.ck
    assert public_suffix("nas.lan") is None


def test_vendored_public_suffix_rules_match_their_recorded_checksum() -> None:
    recorded = re.search(r"sha256 of `icann_rules.txt`: `([0-9a-f]{64})`", (VENDORED / "README.md").read_text())
    assert recorded is not None
    assert hashlib.sha256((VENDORED / "icann_rules.txt").read_bytes()).hexdigest() == recorded.group(1)
