"""Which host versions an installer accepts: the installer's pre-flight check (`UpgradeableFrom`).

siderolabs/talos cmd/installer/pkg/install/preflight.go and pkg/machinery/compatibility/talos_version.go
@v1.13.9, with MinimumHostUpgradeVersion / MaximumHostDowngradeVersion of
pkg/machinery/compatibility/talos1<minor>/talos1<minor>.go at v1.11.6, v1.12.11 and v1.13.9. The check runs
inside the upgrade sequence, after the API acknowledged the request: a refused upgrade is acked, the node
logs the error and keeps running the version it had.
"""

from __future__ import annotations

# target minor -> (minimum host version, maximum host version, not inclusive)
HOST_RANGE: dict[tuple[int, int], tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    (1, 11): ((1, 9, 0), (1, 13, 0)),
    (1, 12): ((1, 10, 0), (1, 14, 0)),
    (1, 13): ((1, 11, 0), (1, 15, 0)),
}


def _triple(version: str) -> tuple[int, int, int]:
    major, minor, patch = version.lstrip("v").split("-")[0].split(".")
    return int(major), int(minor), int(patch)


def preflight_error(host: str, target: str) -> str | None:
    """None when the installer of `target` upgrades a node running `host`, else the installer's error."""
    h, t = _triple(host), _triple(target)
    bounds = HOST_RANGE.get(t[:2])
    shown_h, shown_t = host.lstrip("v"), target.lstrip("v")  # semver.Version.String() has no "v"
    if bounds is None:
        return f"pre-flight checks failed: upgrades to version {shown_t} are not supported"
    low, high = bounds
    if h < low:
        return f"pre-flight checks failed: host version {shown_h} is too old to upgrade to Talos {shown_t}"
    if h >= high:
        return f"pre-flight checks failed: host version {shown_h} is too new to downgrade to Talos {shown_t}"
    return None
