"""The ACME account contact Let's Encrypt accepts, checked when cluster.yaml is validated.

cert-manager registers the ClusterIssuer's account with `mailto:<email>`; Let's Encrypt (boulder) refuses it
with `invalidContact` and cert-manager does not try again, so certificates are never issued. Boulder's rules
(letsencrypt/boulder `wfe2/wfe.go` `contactsToEmails`, `policy/pa.go` `ValidEmail` and
`validNonWildcardDomain`, tag v0.20260804.0):

- ASCII only, no `?` or `#` (they would end the mailto URL), a parseable address;
- the domain (lower-cased) is a DNS name: a-z, 0-9, '-' and '.', at most 253 characters, not an IP address,
  no trailing dot, 2 to 10 labels of 1 to 63 characters, none starting or ending with '-', and no `??--`
  label except a well-formed `xn--` one;
- it ends in an ICANN public suffix and is not one itself (so `localhost`, `*.local`, `*.internal`, `*.lan`
  and `*.test` are refused): the vendored PSL ICANN section, see runner/vendored/publicsuffix;
- it is not example.com, example.net or example.org (RFC 2606 names, `forbiddenMailDomains`).

This module reads the vendored list (package data) and nothing else.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import cache
from importlib import resources

FORBIDDEN_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")  # RFC 5322 atext, what net/mail takes in a local part
_LDH = re.compile(r"[a-z0-9-]+")


@cache
def _icann_rules() -> frozenset[str]:
    text = resources.files("runner.vendored").joinpath("publicsuffix/icann_rules.txt").read_text("ascii")
    return frozenset(text.split())


def contact_problem(address: str) -> str | None:
    """Why Let's Encrypt would refuse `address` as an account contact, or None."""
    if not address.isascii():
        return "contains non-ASCII characters"
    if "?" in address or "#" in address:
        return "contains a '?' or '#', which end a mailto: URL"
    local, at, domain = address.rpartition("@")
    if not at or not all(_ATOM.fullmatch(part) for part in local.split(".")):
        return "is not an email address like ops@mail.your-domain.org"
    domain = domain.lower()
    why = domain_problem(domain)
    if why is not None:
        return f"its domain {domain!r} {why}"
    if domain in FORBIDDEN_DOMAINS:
        return f"{domain} is reserved for examples (RFC 2606); use an address you read"
    return None


def domain_problem(domain: str) -> str | None:
    """Boulder's validNonWildcardDomain, in words an operator can act on."""
    if not domain or len(domain) > 253:
        return "is empty or longer than 253 characters"
    if not set(domain) <= set("abcdefghijklmnopqrstuvwxyz0123456789.-"):
        return "has characters a DNS name cannot have"
    try:
        ipaddress.ip_address(domain)
        return "is an IP address, not a DNS name"
    except ValueError:
        pass
    if domain.endswith("."):
        return "ends in a dot"
    labels = domain.split(".")
    if len(labels) < 2:
        return "has no dot: a single name such as localhost is private"
    if len(labels) > 10:
        return "has more than 10 labels (parts between dots)"
    for label in labels:
        if not label or len(label) > 63 or not _LDH.fullmatch(label) or label[0] == "-" or label[-1] == "-":
            return f"has an invalid label {label!r}"
        if label[2:4] == "--" and not _valid_xn(label):
            return f"has a label in a reserved format {label!r} (only well-formed xn-- labels may have '--' there)"
    suffix = public_suffix(domain)
    if suffix is None:
        return "does not end in a public top-level domain (e.g. .local, .lan, .internal and localhost are private)"
    if suffix == domain:
        return "is a public suffix itself, not a domain under one"
    return None


def _valid_xn(label: str) -> bool:
    if not label.startswith("xn--"):
        return False
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except UnicodeError:
        return False
    return bool(decoded) and unicodedata.is_normalized("NFC", decoded)


def public_suffix(domain: str) -> str | None:
    """The ICANN public suffix `domain` ends in (PSL algorithm: an exception wins, else the longest rule), or None."""
    rules = _icann_rules()
    labels = domain.split(".")
    best = 0
    for n in range(1, len(labels) + 1):
        tail = labels[-n:]
        if "!" + ".".join(tail) in rules:
            return ".".join(tail[1:])  # an exception rule: the suffix is the rule without its first label
        if ".".join(tail) in rules or ".".join(["*", *tail[1:]]) in rules:
            best = n
    return ".".join(labels[-best:]) if best else None
