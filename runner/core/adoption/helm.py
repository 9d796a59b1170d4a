"""Helm releases already in the cluster, against the HelmReleases under flux/: will Flux take each over?

Helm 3 stores a release as a Secret `sh.helm.release.v1.<name>.v<revision>` in the release's storage namespace,
labelled owner=helm, name, status, version; `data.release` is base64(gzip(JSON)) (helm v3
pkg/storage/driver/secrets.go, util.go encodeRelease/decodeRelease; decodeRelease also takes plain JSON).

helm-controller takes a release over by *upgrade* when its storage (the HelmRelease's storageNamespace) holds
a release named like the HelmRelease's releaseName that is not uninstalled or pending: with no history of its
own, DetermineReleaseState calls it "Unmanaged" and the next action is an upgrade
(fluxcd/helm-controller v1.6.3 internal/reconcile/state.go DetermineReleaseState). Under any other name or
storage namespace it installs a second release of the chart, which is what adoption must refuse.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.core.adoption.machineconfig import leaves, shown

_GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass(frozen=True)
class LiveRelease:
    name: str
    namespace: str  # where the Secret is stored
    revision: int
    status: str
    chart: str
    chart_version: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class WantedRelease:
    """A HelmRelease of the Flux tree, with the defaults helm-controller applies."""

    file: str
    name: str
    release_name: str
    storage_namespace: str
    chart: str
    chart_version: str
    values: Mapping[str, Any]


def decode_release(secret: Mapping[str, Any]) -> LiveRelease | None:
    """A Helm storage Secret (as the Kubernetes API returns it) decoded; None if it is not one."""
    labels = (secret.get("metadata") or {}).get("labels") or {}
    if labels.get("owner") != "helm" or secret.get("type") != "helm.sh/release.v1":
        return None
    try:
        raw = base64.b64decode(base64.b64decode((secret.get("data") or {}).get("release", "")))
        body = json.loads(gzip.decompress(raw) if raw[:3] == _GZIP_MAGIC else raw)
    except (binascii.Error, ValueError, OSError):
        return None
    if not isinstance(body, dict):
        return None
    chart = body.get("chart")
    chart = (chart.get("metadata") or {}) if isinstance(chart, dict) else {"name": chart}
    return LiveRelease(
        name=str(body.get("name") or labels.get("name", "")),
        namespace=str((secret.get("metadata") or {}).get("namespace", "")),
        revision=int(body.get("version") or labels.get("version") or 0),
        status=str((body.get("info") or {}).get("status") or labels.get("status", "")),
        chart=str(chart.get("name") or body.get("chart") or ""),
        chart_version=str(chart.get("version") or body.get("chartVersion") or ""),
        values=body.get("config") or {},
    )


def wanted_release(doc: Mapping[str, Any], file: str) -> WantedRelease:
    meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
    ns, name = str(meta.get("namespace", "default")), str(meta.get("name", ""))
    target = spec.get("targetNamespace")
    chart = ((spec.get("chart") or {}).get("spec")) or {}
    return WantedRelease(
        file=file,
        name=f"{ns}/{name}",
        # HelmRelease.GetReleaseName: releaseName, else <targetNamespace>-<name>, else <name>
        release_name=str(spec.get("releaseName") or (f"{target}-{name}" if target else name)),
        storage_namespace=str(spec.get("storageNamespace") or ns),
        chart=str(chart.get("chart", "")),
        chart_version=str(chart.get("version", "")),
        values=spec.get("values") or {},
    )


def latest(releases: Sequence[LiveRelease]) -> list[LiveRelease]:
    """The newest revision of each (storage namespace, name)."""
    best: dict[tuple[str, str], LiveRelease] = {}
    for r in releases:
        key = (r.namespace, r.name)
        if key not in best or r.revision > best[key].revision:
            best[key] = r
    return [best[k] for k in sorted(best)]


def values_diff(live: Mapping[str, Any], wanted: Mapping[str, Any]) -> tuple[str, ...]:
    before, after = leaves([{"kind": "values", **live}]), leaves([{"kind": "values", **wanted}])
    return tuple(
        f"{path.removeprefix('values.')}: {shown(before.get(path))} → {shown(after.get(path))}"
        for path in sorted(before.keys() | after.keys())
        if before.get(path) != after.get(path)
    )


@dataclass(frozen=True)
class ReleaseVerdict:
    chart: str
    release: str  # namespace/name as installed
    helmrelease: str  # the HelmRelease of flux/ that wants it
    takeover: str  # "upgrade" | "refused" | "install"
    values: tuple[str, ...]
    refusal: str | None = None


def judge_releases(live: Sequence[LiveRelease], wanted: Sequence[WantedRelease]) -> list[ReleaseVerdict]:
    out: list[ReleaseVerdict] = []
    current = latest(live)
    for w in wanted:
        same = next((r for r in current if (r.namespace, r.name) == (w.storage_namespace, w.release_name)), None)
        if same is not None and same.status not in ("uninstalled",) and not same.status.startswith("pending"):
            out.append(
                ReleaseVerdict(
                    w.chart, f"{same.namespace}/{same.name}", w.name, "upgrade", values_diff(same.values, w.values)
                )
            )
            continue
        other = next((r for r in current if r.chart == w.chart and r.status == "deployed"), None)
        if other is not None:
            refusal = (
                f"helm: chart {w.chart} is installed as release {other.namespace}/{other.name}, but {w.file} "
                f"({w.name}) wants release {w.storage_namespace}/{w.release_name}: Flux would install it a second time"
            )
            out.append(ReleaseVerdict(w.chart, f"{other.namespace}/{other.name}", w.name, "refused", (), refusal))
        elif same is not None and same.status.startswith("pending"):
            refusal = f"helm: release {same.namespace}/{same.name} is {same.status}: Flux cannot take it over"
            out.append(ReleaseVerdict(w.chart, f"{same.namespace}/{same.name}", w.name, "refused", (), refusal))
    return out
