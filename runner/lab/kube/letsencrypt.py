"""Let's Encrypt's ACME server as cert-manager meets it when registering an account: the contacts it refuses.

letsencrypt/boulder v0.20260804.0: `wfe2/wfe.go` `contactsToEmails` (mailto only, no `?`/`#`, ASCII), then
`policy/pa.go` `ValidEmail`: net/mail parses the address, its lower-cased domain must pass
`validNonWildcardDomain` (DNS characters, length, not an IP, no trailing dot, 2-10 labels, LDH labels, R-LDH
labels only as valid `xn--`, an ICANN public suffix that is not the whole name: `iana.ExtractSuffix` on the PSL's
ICANN section, vendored in runner/vendored/publicsuffix) and must not be in `forbiddenMailDomains`.
The problem document (`web/probs.go`: detail "<msg> :: <err>") reaches cert-manager as golang.org/x/crypto/acme's
`Error.Error()`: "<status> <type>: <detail>".
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

HOSTS = frozenset({"acme-v02.api.letsencrypt.org", "acme-staging-v02.api.letsencrypt.org"})
INVALID_CONTACT = "urn:ietf:params:acme:error:invalidContact"
UNSUPPORTED_CONTACT = "urn:ietf:params:acme:error:unsupportedContact"
_FORBIDDEN_MAIL_DOMAINS = {"example.com", "example.net", "example.org"}
_DNS_LABEL = re.compile(r"^[a-z0-9-]+$")
_ADDR_SPEC = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[^@\s]+$")


class AcmeError(Exception):
    def __init__(self, status: int, problem: str, detail: str) -> None:
        super().__init__(f"{status} {problem}: {detail}")


@cache
def _icann() -> frozenset[str]:
    return frozenset(resources.files("runner.vendored").joinpath("publicsuffix/icann_rules.txt").read_text().split())


def new_account(contacts: list[str]) -> None:
    """POST new-account: returns when the account is created, raises AcmeError as boulder answers."""
    for contact in contacts:
        try:
            _check_contact(contact)
        except _Refused as e:
            raise AcmeError(400, e.problem, f"Error validating contact(s) :: {e}") from None


class _Refused(Exception):
    def __init__(self, message: str, problem: str = INVALID_CONTACT) -> None:
        super().__init__(message)
        self.problem = problem


def _check_contact(contact: str) -> None:
    if contact == "":
        raise _Refused("empty contact")
    url = urlsplit(contact)
    if url.scheme != "mailto":
        raise _Refused("only contact scheme 'mailto:' is supported", UNSUPPORTED_CONTACT)
    if url.query or contact.endswith("?"):
        raise _Refused("contact email contains a question mark")
    if url.fragment or contact.endswith("#"):
        raise _Refused("contact email contains a '#'")
    if not contact.isascii():
        raise _Refused("contact email contains non-ASCII characters")
    _valid_email(url.path)


def _valid_email(address: str) -> None:
    if not _ADDR_SPEC.match(address) or "" in address.split("@")[0].split("."):
        raise _Refused("unable to parse email address")  # net/mail: a dot-atom local part
    domain = address.split("@")[-1].lower()
    error = _domain_error(domain)
    if error:
        raise _Refused(f"contact email has invalid domain: {error}")
    if domain in _FORBIDDEN_MAIL_DOMAINS:
        raise _Refused(f'contact email has forbidden domain "{domain}"')


def _domain_error(domain: str) -> str | None:
    if domain == "":
        return "Identifier value (name) is empty"
    if domain.startswith("*."):
        return "Wildcard domain names are not supported"
    if any(not (c.isascii() and (c.isalnum() or c in ".-")) for c in domain):
        return "Domain name contains an invalid character"
    if len(domain) > 253:
        return "Domain name is longer than 253 bytes"
    try:
        ipaddress.ip_address(domain)
        return "Identifier type is DNS but value is an IP address"
    except ValueError:
        pass
    if domain.endswith("."):
        return "Domain name ends in a dot"
    labels = domain.split(".")
    if len(labels) > 10:
        return "Domain name has more than 10 labels (parts)"
    if len(labels) < 2:
        return "Domain name needs at least one dot"
    for label in labels:
        if not label:
            return "Domain name can not have two dots in a row"
        if len(label) > 63:
            return "Domain has a label (component between dots) longer than 63 bytes"
        if not _DNS_LABEL.match(label) or label[0] == "-" or label[-1] == "-":
            return "Domain name contains an invalid character"
        if len(label) >= 4 and label[2:4] == "--":
            if label[:2] != "xn":
                return "Domain name contains an invalid label in a reserved format (R-LDH: '??--')"
            try:
                unicode = label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                return "Domain name contains malformed punycode"
            if not unicodedata.is_normalized("NFC", unicode):
                return "Domain name contains malformed punycode"
    suffix = _icann_suffix(labels)
    if suffix is None:
        return "Domain name does not end with a valid public suffix (TLD)"
    if suffix == domain:
        return "Domain name is an ICANN TLD"
    return None


def _icann_suffix(labels: list[str]) -> str | None:
    """publicsuffix-go Find with the ICANN rules only and no default rule: an exception wins, else the longest."""
    rules, found = _icann(), 0
    for n in range(1, len(labels) + 1):
        tail = labels[-n:]
        if "!" + ".".join(tail) in rules:
            return ".".join(tail[1:])
        if ".".join(tail) in rules or "*." + ".".join(tail[1:]) in rules:
            found = n
    return ".".join(labels[-found:]) if found else None
