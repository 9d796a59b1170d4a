"""Which clusters a change touches, by the paths it changed."""

from __future__ import annotations

from collections.abc import Iterable


def touched_clusters(
    changed: Iterable[str], clusters: Iterable[str], clusters_dir: str = "clusters", flux_dir: str = "flux"
) -> set[str]:
    """Clusters a change touches: its own `clusters/<name>/` directory, or anything under `flux/` (all)."""
    names = set(clusters)
    touched: set[str] = set()
    for path in changed:
        parts = path.split("/")
        if parts[0] == flux_dir:
            return names
        if len(parts) > 2 and parts[0] == clusters_dir and parts[1] in names:
            touched.add(parts[1])
    return touched
