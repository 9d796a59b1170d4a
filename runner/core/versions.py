"""Which Kubernetes versions each Talos minor supports (Talos support matrix)."""

from __future__ import annotations

# Talos minor -> (oldest, newest) supported Kubernetes minor, from the Talos support matrix.
SUPPORTED_KUBERNETES: dict[tuple[int, int], tuple[tuple[int, int], tuple[int, int]]] = {
    (1, 7): ((1, 25), (1, 30)),
    (1, 8): ((1, 26), (1, 31)),
    (1, 9): ((1, 27), (1, 32)),
    (1, 10): ((1, 28), (1, 33)),
    (1, 11): ((1, 29), (1, 34)),
}


def parse_version(text: str) -> tuple[int, int, int]:
    major, minor, patch = text.lstrip("v").split(".")
    return int(major), int(minor), int(patch)


def compatibility_problem(talos: str, kubernetes: str) -> str | None:
    """None when the pair is supported, else a sentence saying why not."""
    t = parse_version(talos)[:2]
    k = parse_version(kubernetes)[:2]
    if t not in SUPPORTED_KUBERNETES:
        known = ", ".join(f"v{a}.{b}" for a, b in sorted(SUPPORTED_KUBERNETES))
        return f"Talos v{t[0]}.{t[1]} is not supported by this runner (supported: {known})"
    lo, hi = SUPPORTED_KUBERNETES[t]
    if not lo <= k <= hi:
        return (
            f"Kubernetes v{k[0]}.{k[1]} is not supported by Talos v{t[0]}.{t[1]} "
            f"(supported: v{lo[0]}.{lo[1]} to v{hi[0]}.{hi[1]})"
        )
    return None


def upgrade_problem(kind: str, current: str, target: str) -> str | None:
    """Refuse downgrades of the minor and skipped minors (version-skew rules)."""
    cur, tgt = parse_version(current)[:2], parse_version(target)[:2]
    if tgt < cur:
        return f"{kind} downgrade {current} -> {target} is not supported"
    if tgt[0] == cur[0] and tgt[1] - cur[1] > 1:
        return f"{kind} upgrade {current} -> {target} skips a minor version; upgrade one minor at a time"
    return None
