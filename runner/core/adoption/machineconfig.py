"""Two machine configs compared as Talos reads them: parsed, so comments, key order and defaults do not count.

Secret values never leave this module: the secrets of the cluster (CAs, service-account key, cluster id and
secret, tokens, encryption keys) are compared by sha256 and reported as `same` or `differs`. Everything else is
compared leaf by leaf; a leaf absent on one side and equal to Talos's default on the other is no difference,
and a list of plain values is compared as a set (Talos treats certSANs, nameservers and the like that way).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.core.talos import redacted
from runner.core.talos.documents import as_talos_reads

# The bundle's values as they appear in a v1alpha1 config (pkg/machinery/config/types/v1alpha1), with a name an
# operator recognises. A worker carries no CA keys: those paths are simply absent on both sides.
SECRET_PATHS: dict[str, str] = {
    "machine.ca.crt": "Talos OS CA",
    "machine.ca.key": "Talos OS CA key",
    "machine.token": "trustd token",
    "cluster.id": "cluster id",
    "cluster.secret": "cluster secret",
    "cluster.token": "bootstrap token",
    "cluster.secretboxEncryptionSecret": "secretbox encryption key",
    "cluster.aescbcEncryptionSecret": "aescbc encryption key",
    "cluster.ca.crt": "Kubernetes CA",
    "cluster.ca.key": "Kubernetes CA key",
    "cluster.aggregatorCA.crt": "aggregator CA",
    "cluster.aggregatorCA.key": "aggregator CA key",
    "cluster.serviceAccount.key": "service-account key",
    "cluster.etcd.ca.crt": "etcd CA",
    "cluster.etcd.ca.key": "etcd CA key",
}
# Leaves Talos fills in when a config leaves them out (v1alpha1 defaults, pkg/machinery/constants).
DEFAULTS: dict[str, Any] = {
    "v1alpha1.debug": False,
    "v1alpha1.machine.install.wipe": False,
    "v1alpha1.cluster.network.dnsDomain": "cluster.local",
    "v1alpha1.cluster.network.podSubnets": ["10.244.0.0/16"],
    "v1alpha1.cluster.network.serviceSubnets": ["10.96.0.0/12"],
    "v1alpha1.cluster.discovery.enabled": True,
    "v1alpha1.machine.features.kubePrism.enabled": True,
    "v1alpha1.machine.features.kubePrism.port": 7445,
    # HostnameConfig `auto` is an enum whose zero value is `off` (nethelpers.AutoHostnameKind, "off" first in
    # its enumer table @v1.13.9): a static hostname written with `auto: off`, as a patch over the generator's
    # `auto: stable` must, is the runner's HostnameConfig without it.
    "HostnameConfig.auto": "off",
}


def _digest(value: Any) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()


def _document_key(doc: Mapping[str, Any]) -> str:
    kind = doc.get("kind")
    if not kind:
        return "v1alpha1"
    return f"{kind}/{doc.get('name', '')}" if doc.get("name") else str(kind)


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}", out)
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}[{i}]", out)
    elif isinstance(value, list):
        out[prefix] = sorted(str(v) for v in value)
    else:
        out[prefix] = value


def leaves(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`<document>.<path>` -> value, for every leaf of every document (plain values, secrets included)."""
    out: dict[str, Any] = {}
    for doc in documents:
        if isinstance(doc, Mapping):
            _flatten(doc, _document_key(doc), out)
    return out


def _secret_path(path: str) -> str | None:
    bare = path.removeprefix("v1alpha1.")
    return bare if path.startswith("v1alpha1.") and bare in SECRET_PATHS else None


@dataclass(frozen=True)
class ConfigComparison:
    changes: tuple[str, ...]  # "path: live → desired", secrets left out
    secrets: tuple[tuple[str, str], ...]  # (secret name, "same" | "differs" | "absent")

    @property
    def secrets_differ(self) -> tuple[str, ...]:
        return tuple(name for name, verdict in self.secrets if verdict == "differs")


def shown(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compare_configs(live: Sequence[Mapping[str, Any]], desired: Sequence[Mapping[str, Any]]) -> ConfigComparison:
    # As Talos reads them, the way the config hash does: the endpoint's host is always an API server SAN (listed
    # by the v1.11 generator, no longer by v1.12's), and the SANs are a set.
    live, desired = as_talos_reads(live), as_talos_reads(desired)
    before, after = leaves(live), leaves(desired)
    # Other secrets (an auth key in an extension's environment, registry passwords) are shown masked, as plans show
    # them: what differs is said, never the value.
    masked_before, masked_after = leaves(redacted(list(live))), leaves(redacted(list(desired)))
    changes: list[str] = []
    secrets: list[tuple[str, str]] = []
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path), after.get(path)
        secret = _secret_path(path)
        if secret is not None:
            if old is None and new is None:
                continue
            verdict = "absent" if old is None or new is None else "same" if _digest(old) == _digest(new) else "differs"
            secrets.append((SECRET_PATHS[secret], verdict))
            continue
        default = DEFAULTS.get(path)
        if isinstance(default, list):
            default = sorted(str(v) for v in default)
        old = default if old is None else old
        new = default if new is None else new
        hidden = masked_before.get(path, old) != old or masked_after.get(path, new) != new
        if old != new and hidden:
            shown_old, shown_new = masked_before.get(path, old), masked_after.get(path, new)
            changes.append(f"{path}: {shown(shown_old)} → {shown(shown_new)} (secret values differ)")
        elif old != new:
            changes.append(f"{path}: {shown(old)} → {shown(new)}")
    return ConfigComparison(tuple(changes), tuple(secrets))


# --- facts a live config states about the cluster ------------------------------------------------------------


def _v1alpha1(documents: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    return next((d for d in documents if isinstance(d, Mapping) and not d.get("kind")), {})


def cluster_name(documents: Sequence[Mapping[str, Any]]) -> str:
    return str((_v1alpha1(documents).get("cluster") or {}).get("clusterName", ""))


def endpoint(documents: Sequence[Mapping[str, Any]]) -> str:
    cluster = _v1alpha1(documents).get("cluster") or {}
    return str((cluster.get("controlPlane") or {}).get("endpoint", "")).rstrip("/")


def interfaces(documents: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """Link names the config puts addresses on (machine.network.interfaces, LinkConfig documents)."""
    machine = _v1alpha1(documents).get("machine") or {}
    names = [str(i.get("interface", "")) for i in (machine.get("network") or {}).get("interfaces") or []]
    names += [str(d.get("name", "")) for d in documents if isinstance(d, Mapping) and d.get("kind") == "LinkConfig"]
    return tuple(n for n in names if n)


def talos_vips(documents: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """VIPs Talos holds itself: `vip` on an interface or VLAN (to v1.11), Layer2VIPConfig (v1.12+)."""
    machine = _v1alpha1(documents).get("machine") or {}
    out = []
    for device in (machine.get("network") or {}).get("interfaces") or []:
        for holder in (device, *(device.get("vlans") or [])):
            if (holder.get("vip") or {}).get("ip"):
                out.append(str(holder["vip"]["ip"]))
    out += [str(d.get("name")) for d in documents if isinstance(d, Mapping) and d.get("kind") == "Layer2VIPConfig"]
    return tuple(out)


def hostname(documents: Sequence[Mapping[str, Any]]) -> str:
    machine = _v1alpha1(documents).get("machine") or {}
    named = str((machine.get("network") or {}).get("hostname") or "")
    return named or next(
        (str(d.get("hostname")) for d in documents if isinstance(d, Mapping) and d.get("kind") == "HostnameConfig"),
        "",
    )


def kubelet_version(documents: Sequence[Mapping[str, Any]]) -> str:
    image = str(((_v1alpha1(documents).get("machine") or {}).get("kubelet") or {}).get("image", ""))
    return image.rsplit(":", 1)[1] if ":" in image else ""
