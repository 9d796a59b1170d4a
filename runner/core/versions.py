"""Which versions go together: Kubernetes per Talos minor, the Talos minors the runner manages, and the
minimum Kubernetes of each Flux minor. Tables, so a new upstream release is one line here."""

from __future__ import annotations

from collections.abc import Sequence

from runner.core.talos.contract import SUPPORTED_TALOS_MINORS, supported_text

Minor = tuple[int, int]

# Talos minor -> (oldest, newest) Kubernetes minor it supports: MinimumKubernetesVersion and
# MaximumKubernetesVersion (x.y.99) of siderolabs/talos pkg/machinery/compatibility/talos1<minor>@v1.13.9.
SUPPORTED_KUBERNETES: dict[Minor, tuple[Minor, Minor]] = {
    (1, 7): ((1, 25), (1, 30)),
    (1, 8): ((1, 26), (1, 31)),
    (1, 9): ((1, 27), (1, 32)),
    (1, 10): ((1, 28), (1, 33)),
    (1, 11): ((1, 29), (1, 34)),
    (1, 12): ((1, 30), (1, 35)),
    (1, 13): ((1, 31), (1, 36)),
}

# Flux minor -> oldest Kubernetes minor it supports: `kubernetesConstraints` of fluxcd/flux2 cmd/flux/check.go
# at each minor's .0 tag (what `flux check --pre` refuses).
FLUX_MINIMUM_KUBERNETES: dict[Minor, Minor] = {
    (2, 0): (1, 24),
    (2, 1): (1, 25),
    (2, 2): (1, 26),
    (2, 3): (1, 28),
    (2, 4): (1, 28),
    (2, 5): (1, 30),
    (2, 6): (1, 31),
    (2, 7): (1, 32),
    (2, 8): (1, 33),
    (2, 9): (1, 33),
}


def parse_version(text: str) -> tuple[int, int, int]:
    major, minor, patch = text.lstrip("v").split(".")
    return int(major), int(minor), int(patch)


def minor_of(text: str) -> Minor:
    """`v1.13.9` -> (1, 13): what support and compatibility are decided by."""
    major, minor, _ = parse_version(text)
    return major, minor


def _v(minor: Minor) -> str:
    return f"v{minor[0]}.{minor[1]}"


def talos_problem(talos: str) -> str | None:
    """None when the runner can write configs for this Talos, else why not."""
    t = minor_of(talos)
    if t in SUPPORTED_TALOS_MINORS:
        return None
    newest = max(SUPPORTED_TALOS_MINORS)
    if t > newest:
        return f"Talos {_v(t)} is not supported by this runner yet (supported: {supported_text()})"
    oldest = min(SUPPORTED_TALOS_MINORS)
    return (
        f"Talos {_v(t)} is not supported by this runner (supported: {supported_text()}); "
        f"upgrade the cluster to Talos {_v(oldest)} first"
    )


def compatibility_problem(talos: str, kubernetes: str) -> str | None:
    """None when Talos supports this Kubernetes, else a sentence saying why not and which Talos to reach first."""
    t = minor_of(talos)
    k = minor_of(kubernetes)
    if t not in SUPPORTED_KUBERNETES:
        return None  # talos_problem reports it
    lo, hi = SUPPORTED_KUBERNETES[t]
    if lo <= k <= hi:
        return None
    why = f"Kubernetes {_v(k)} is not supported by Talos {_v(t)} (supported: {_v(lo)} to {_v(hi)})"
    runs_k = sorted(m for m, (a, b) in SUPPORTED_KUBERNETES.items() if a <= k <= b)
    if not runs_k:
        return f"{why}; no Talos release supports Kubernetes {_v(k)}"
    if k < lo:
        last = runs_k[-1]
        # Talos refuses an upgrade onto an unsupported Kubernetes: Kubernetes moves first, on the newest Talos
        # that still runs it.
        return (
            f"{why}; a cluster on Kubernetes {_v(k)} reaches Talos {_v(last)} first (the newest Talos that runs it), "
            f"upgrades Kubernetes there to {_v(lo)} or newer, then moves to Talos {_v(t)}"
        )
    first = runs_k[0]
    return f"{why}; Kubernetes {_v(k)} needs Talos {_v(first)} or newer: reach Talos {_v(first)} first"


def flux_problem(flux: str, kubernetes: str) -> str | None:
    """None when this Flux supports this Kubernetes, else why not (checked like `flux check --pre`)."""
    f = minor_of(flux)
    k = minor_of(kubernetes)
    if f not in FLUX_MINIMUM_KUBERNETES:
        known = ", ".join(_v(m) for m in sorted(FLUX_MINIMUM_KUBERNETES))
        return f"Flux {_v(f)} has no minimum Kubernetes version in the runner's table (known: {known})"
    need = FLUX_MINIMUM_KUBERNETES[f]
    if k < need:
        return f"Flux {_v(f)} needs Kubernetes {_v(need)} or newer, not {_v(k)}: upgrade Kubernetes first"
    return None


def flux_release_for(kubernetes: str, releases: Sequence[str]) -> str | None:
    """The Flux the runner installs on a cluster at this Kubernetes: the newest of `releases` (the vendored
    install manifests) that supports it, so Kubernetes always reaches a release's minimum before that release
    is installed. None when none does."""
    fitting = [r for r in releases if flux_problem(r, kubernetes) is None]
    return max(fitting, key=parse_version) if fitting else None


def no_flux_release_problem(kubernetes: str, releases: Sequence[str]) -> str:
    oldest = min(releases, key=parse_version)
    return flux_problem(oldest, kubernetes) or f"no Flux release for Kubernetes {kubernetes}"


def upgrade_problem(kind: str, current: str, target: str) -> str | None:
    """Refuse downgrades of the minor and skipped minors (version-skew rules)."""
    cur, tgt = minor_of(current), minor_of(target)
    if tgt < cur:
        return f"{kind} downgrade {current} -> {target} is not supported"
    if tgt[0] == cur[0] and tgt[1] - cur[1] > 1:
        return f"{kind} upgrade {current} -> {target} skips a minor version; upgrade one minor at a time"
    return None
