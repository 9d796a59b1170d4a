"""The adoption report: what `runner adopt` found, as plain data with a digest over its canonical form.

The digest is what `--apply --confirm <digest>` names: a report that changed since the operator read it (a VM
edited, a node rebooted onto another config, a release upgraded) has another digest and is applied by no one.
Nothing volatile goes in (no times, no resource versions), and no secret value: secrets are `same`/`differs`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class NodeReport:
    name: str
    vmid: int
    ip: str
    vm: tuple[str, ...] = ()  # VM field differences, "field: live → spec"
    config: tuple[str, ...] = ()  # normalised machine-config differences (no secret values)
    secrets: tuple[tuple[str, str], ...] = ()  # (what, same | differs | absent)
    talos: str = ""  # Talos's verdict on applying the runner's config (dry run)
    schematic: str = "same"  # or "<live> → <spec> (upgrade, reboots)"
    version: str = "same"  # Talos version: or "<live> → <spec> (upgrade, reboots)"
    reboot: bool = False


@dataclass(frozen=True)
class ReleaseReport:
    chart: str
    release: str
    helmrelease: str
    takeover: str  # upgrade | refused
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdoptionReport:
    cluster: str
    endpoint: str  # the control-plane endpoint the live configs name, recorded on --apply
    nodes: tuple[NodeReport, ...]
    releases: tuple[ReleaseReport, ...] = ()
    refusals: tuple[str, ...] = ()
    etcd_members: tuple[str, ...] = field(default=())  # "<hostname> <peer ip>", sorted (ids are not stable input)

    @property
    def adoptable(self) -> bool:
        return not self.refusals

    def canonical(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def digest(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def as_json(self) -> dict[str, Any]:
        out = self.canonical()
        out["nodes"] = [{**n, "secrets": [{"what": w, "verdict": v} for w, v in n["secrets"]]} for n in out["nodes"]]
        out["adoptable"] = self.adoptable
        out["digest"] = self.digest
        return out
