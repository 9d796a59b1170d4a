"""The multi-document network configs of Talos v1.12 and later: what a node reads from them, and the rules Talos
checks when it validates a config (pkg/machinery/config/types/network@v1.12.11, container/container.go Validate).

Messages are Talos's: a document's own errors are prefixed with its id (`LinkConfig/eth0: ...`), conflicts with
the legacy v1alpha1 fields are listed as they are.
"""

from __future__ import annotations

import ipaddress
from typing import Any


def _kind(doc: dict[str, Any]) -> str:
    return str(doc.get("kind", ""))


def _network(v1: dict[str, Any]) -> dict[str, Any]:
    machine = v1.get("machine") if isinstance(v1.get("machine"), dict) else {}
    network = machine.get("network") if isinstance(machine, dict) else None
    return network if isinstance(network, dict) else {}


def hostname(documents: list[dict[str, Any]], v1: dict[str, Any]) -> str | None:
    """The static hostname: HostnameConfig's, else the legacy `machine.network.hostname`."""
    for doc in documents:
        if _kind(doc) == "HostnameConfig" and doc.get("hostname"):
            return str(doc["hostname"])
    legacy = _network(v1).get("hostname")
    return str(legacy) if legacy else None


def links(documents: list[dict[str, Any]], v1: dict[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(link name, its addresses without prefix length) from `machine.network.interfaces` and LinkConfig documents."""
    out = []
    for item in _network(v1).get("interfaces") or []:
        if isinstance(item, dict) and item.get("interface"):
            out.append((str(item["interface"]), tuple(str(a).split("/")[0] for a in item.get("addresses") or [])))
    for doc in documents:
        if _kind(doc) == "LinkConfig" and doc.get("name"):
            addresses = tuple(
                str(a.get("address", "")).split("/")[0] for a in doc.get("addresses") or [] if isinstance(a, dict)
            )
            out.append((str(doc["name"]), addresses))
    return tuple(out)


def errors(documents: list[dict[str, Any]], v1: dict[str, Any]) -> list[str]:
    """Each document's Validate errors, then its conflicts with the v1alpha1 document (V1Alpha1ConflictValidate)."""
    found: list[str] = []
    for doc in documents:
        kind, own = _kind(doc), []
        if kind == "HostnameConfig":
            own = _hostname_errors(doc)
        elif kind == "LinkConfig":
            own = _link_errors(doc)
        if own:
            found.append(f"{kind}{'/' + str(doc['name']) if doc.get('name') else ''}: " + "\n".join(own))
    for doc in documents:
        found += _conflicts(_kind(doc), v1)
    return found


def _hostname_errors(doc: dict[str, Any]) -> list[str]:
    auto, name = doc.get("auto"), doc.get("hostname")
    out = []
    if auto is None and not name:
        out.append("either 'auto' or 'hostname' must be set")
    if auto not in (None, "off") and name:
        out.append("'auto' and 'hostname' cannot be set at the same time")
    return out


def _link_errors(doc: dict[str, Any]) -> list[str]:
    out = []
    for i, route in enumerate(doc.get("routes") or []):
        destination = route.get("destination") if isinstance(route, dict) else None
        if destination and _unspecified(str(destination)):
            out.append(f"route {i} destination must be a valid IP prefix")  # a default route has no destination
    return out


def _unspecified(prefix: str) -> bool:
    try:
        return ipaddress.ip_network(prefix, strict=False).network_address.is_unspecified
    except ValueError:
        return True


def _conflicts(kind: str, v1: dict[str, Any]) -> list[str]:
    network = _network(v1)
    machine = v1.get("machine") if isinstance(v1.get("machine"), dict) else {}
    features = machine.get("features") if isinstance(machine, dict) else None
    if kind == "HostnameConfig":
        if network.get("hostname"):
            return ["static hostname is already set in v1alpha1 config"]
        if isinstance(features, dict) and features.get("stableHostname") is True:
            return ["stable hostname is already set in v1alpha1 config"]
    if kind == "ResolverConfig":
        if network.get("searchDomains") is not None:
            return [".machine.network.searchDomains is already set in v1alpha1 config"]
        if network.get("nameservers"):
            return [".machine.network.nameservers is already set in v1alpha1 config"]
        if network.get("disableSearchDomain") is True:
            return [".machine.network.disableSearchDomain is already set in v1alpha1 config"]
    return []
