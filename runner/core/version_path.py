"""The path a cluster takes from the versions it runs to the spec's: every intermediate state supported.

Talos documents its upgrade path as "the latest patch release of all intermediate minor releases" (Upgrading
Talos Linux, "Supported Upgrade Paths"); Kubernetes moves one minor at a time (upgrade-k8s refuses a skipped
minor); and at every point the pair must be in Talos's compatibility matrix (`SUPPORTED_KUBERNETES`). The path
moves Talos first and raises Kubernetes only as far as the next Talos minor needs it, then to the spec's
Kubernetes on the target Talos. Pure: tables in, stages out.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.core.versions import FLUX_MINIMUM_KUBERNETES, SUPPORTED_KUBERNETES, Minor, minor_of, parse_version

# The latest patch of each Talos minor (siderolabs/talos tags): where an upgrade through that minor stops.
LATEST_TALOS_PATCH: dict[Minor, str] = {
    (1, 11): "v1.11.6",
    (1, 12): "v1.12.11",
    (1, 13): "v1.13.9",
}

# A Kubernetes patch per minor for intermediate stops: DefaultKubernetesVersion of
# siderolabs/talos pkg/machinery/constants/constants.go at the latest patch of the Talos minor that made it
# the default (so a release Talos itself ships and tests).
KUBERNETES_STOP: dict[Minor, str] = {
    (1, 30): "v1.30.5",  # v1.7.7
    (1, 31): "v1.31.4",  # v1.8.4
    (1, 32): "v1.32.4",  # v1.9.6
    (1, 33): "v1.33.6",  # v1.10.9
    (1, 34): "v1.34.1",  # v1.11.6
    (1, 35): "v1.35.4",  # v1.12.11
    (1, 36): "v1.36.3",  # v1.13.9
}


@dataclass(frozen=True)
class Stage:
    """One move of the whole cluster: every node to `version` of `component` ("talos" or "kubernetes")."""

    component: str
    version: str
    final: bool  # the spec's own version (intermediate stops use the tables above)

    @property
    def label(self) -> str:
        return f"{'Talos' if self.component == 'talos' else 'Kubernetes'} {self.version}"


class NoPath(ValueError):
    """No supported path; the message says what to reach first."""


def _v(minor: Minor) -> str:
    return f"v{minor[0]}.{minor[1]}"


def _supports(talos: Minor, kubernetes: Minor) -> bool:
    lo, hi = SUPPORTED_KUBERNETES.get(talos, ((0, 0), (0, 0)))
    return lo <= kubernetes <= hi


def upgrade_path(talos_from: str, k8s_from: str, talos_to: str, k8s_to: str) -> list[Stage]:
    """The stages from (talos_from, k8s_from) to (talos_to, k8s_to); [] when already there. Raises NoPath."""
    t, k = minor_of(talos_from), minor_of(k8s_from)
    t_to, k_to = minor_of(talos_to), minor_of(k8s_to)
    if t_to < t or (t_to == t and parse_version(talos_to) < parse_version(talos_from)):
        raise NoPath(f"Talos downgrade {talos_from} -> {talos_to} is not supported")
    if k_to < k or (k_to == k and parse_version(k8s_to) < parse_version(k8s_from)):
        raise NoPath(f"Kubernetes downgrade {k8s_from} -> {k8s_to} is not supported")
    if not _supports(t, k):
        raise NoPath(f"the cluster runs Kubernetes {k8s_from} on Talos {talos_from}, outside Talos's support matrix")
    if not _supports(t_to, k_to):
        raise NoPath(f"Talos {_v(t_to)} does not support Kubernetes {_v(k_to)}")
    stages: list[Stage] = []

    def raise_kubernetes(to: Minor) -> None:
        nonlocal k
        while k < to:
            k = (k[0], k[1] + 1)
            if not _supports(t, k):
                raise NoPath(
                    f"Kubernetes {_v(k)} is needed before Talos {_v((t[0], t[1] + 1))} but Talos {_v(t)} "
                    f"does not run it: reach a Talos that runs both first"
                )
            final = k == k_to
            if not final and k not in KUBERNETES_STOP:
                raise NoPath(f"no known Kubernetes {_v(k)} release to pass through: reach Kubernetes {_v(k)} first")
            stages.append(Stage("kubernetes", k8s_to if final else KUBERNETES_STOP[k], final))

    while t < t_to:
        nxt = (t[0], t[1] + 1)
        lo, _ = SUPPORTED_KUBERNETES.get(nxt, (k, k))
        if k < lo:
            raise_kubernetes(lo)  # the next Talos refuses this Kubernetes: raise it first, within this Talos
        final = nxt == t_to
        if not final and nxt not in LATEST_TALOS_PATCH:
            raise NoPath(
                f"no known Talos {_v(nxt)} release to pass through: upgrade the cluster to Talos {_v(nxt)} first"
            )
        t = nxt
        stages.append(Stage("talos", talos_to if final else LATEST_TALOS_PATCH[nxt], final))
    if (
        t == t_to
        and parse_version(talos_to) != parse_version(talos_from)
        and not any(s.component == "talos" for s in stages)
    ):
        stages.append(Stage("talos", talos_to, True))  # a patch upgrade within the minor
    raise_kubernetes(k_to)
    if (
        k == k_to
        and parse_version(k8s_to) != parse_version(k8s_from)
        and not any(s.component == "kubernetes" and s.final for s in stages)
    ):
        stages.append(Stage("kubernetes", k8s_to, True))  # a patch upgrade within the minor
    return stages


def flux_ready_stage(stages: list[Stage], k8s_from: str, flux: str) -> int | None:
    """Index of the stage after which Kubernetes satisfies `flux`'s minimum (-1: already before the first
    stage; None: never on this path). A Flux upgrade waits for that stage (FLUX_MINIMUM_KUBERNETES)."""
    need = FLUX_MINIMUM_KUBERNETES.get(minor_of(flux))
    if need is None:
        return None
    if minor_of(k8s_from) >= need:
        return -1
    for index, stage in enumerate(stages):
        if stage.component == "kubernetes" and minor_of(stage.version) >= need:
            return index
    return None
