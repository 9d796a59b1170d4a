"""What the simulated kustomize-controller built and applied last time, so an unchanged Kustomization costs nothing.

The twin re-runs every Kustomization on every pass. The same revision with the same variables builds the same
objects, and a server-side apply of the same configuration to an object nobody has written since is a no-op (its
resourceVersion stays), so both are skipped and the object as last applied is reused. The outcome is the same;
what is saved is parsing and copying large CRDs (the Gateway API ones are ~800 KB of YAML) on every pass.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

Objects = list[dict[str, Any]]


class ApplyMemo:
    def __init__(self) -> None:
        self._builds: dict[Hashable, tuple[Hashable, Objects]] = {}
        # (Kustomization, object id) -> (the desired object, the resourceVersion it got, the object as applied)
        self._applied: dict[Hashable, tuple[dict[str, Any], str | None, dict[str, Any]]] = {}

    def build(self, ks: Hashable, fingerprint: Hashable, make: Callable[[], Objects]) -> Objects:
        """The objects of the last build when nothing it depends on changed (a failed build is not kept)."""
        hit = self._builds.get(ks)
        if hit is not None and hit[0] == fingerprint:
            return hit[1]
        objects = make()
        self._builds[ks] = (fingerprint, objects)
        return objects

    def unchanged(self, key: Hashable, desired: dict[str, Any], live_version: str | None) -> dict[str, Any] | None:
        """The object as last applied, if this very desired object was applied and nobody wrote it since."""
        hit = self._applied.get(key)
        if hit is None or live_version is None or hit[0] is not desired or hit[1] != live_version:
            return None
        return hit[2]

    def remember(self, key: Hashable, desired: dict[str, Any], applied: dict[str, Any]) -> None:
        self._applied[key] = (desired, applied["metadata"].get("resourceVersion"), applied)
