"""The upgrade path across Talos and Kubernetes minors: every intermediate pair supported, one minor a time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.core.version_path import NoPath, Stage, flux_ready_stage, upgrade_path
from runner.core.versions import SUPPORTED_KUBERNETES, parse_version


def _labels(stages: list[Stage]) -> list[str]:
    return [s.label + ("" if s.final else " (stop)") for s in stages]


def test_talos_1_11_to_1_13_passes_each_minor_at_its_latest_patch_then_kubernetes_one_minor_at_a_time() -> None:
    stages = upgrade_path("v1.11.2", "v1.32.1", "v1.13.9", "v1.35.2")
    assert _labels(stages) == [
        "Talos v1.12.11 (stop)",
        "Talos v1.13.9",
        "Kubernetes v1.33.6 (stop)",
        "Kubernetes v1.34.1 (stop)",
        "Kubernetes v1.35.2",
    ]


def test_kubernetes_is_raised_first_when_the_next_talos_no_longer_runs_it() -> None:
    stages = upgrade_path("v1.11.6", "v1.29.3", "v1.13.9", "v1.31.0")
    assert _labels(stages) == [
        "Kubernetes v1.30.5 (stop)",
        "Talos v1.12.11 (stop)",
        "Kubernetes v1.31.0",
        "Talos v1.13.9",
    ]


def test_patch_upgrades_and_nothing_to_do() -> None:
    assert _labels(upgrade_path("v1.11.2", "v1.32.1", "v1.11.3", "v1.32.1")) == ["Talos v1.11.3"]
    assert _labels(upgrade_path("v1.12.1", "v1.34.0", "v1.12.1", "v1.34.2")) == ["Kubernetes v1.34.2"]
    assert upgrade_path("v1.13.9", "v1.35.0", "v1.13.9", "v1.35.0") == []


@pytest.mark.parametrize(
    ("current", "target", "message"),
    [
        (("v1.13.9", "v1.35.0"), ("v1.12.11", "v1.35.0"), "Talos downgrade v1.13.9 -> v1.12.11 is not supported"),
        (("v1.12.1", "v1.34.0"), ("v1.12.1", "v1.33.0"), "Kubernetes downgrade v1.34.0 -> v1.33.0 is not supported"),
        (
            ("v1.9.6", "v1.32.4"),
            ("v1.11.6", "v1.32.4"),
            "no known Talos v1.10 release to pass through: upgrade the cluster to Talos v1.10 first",
        ),
    ],
)
def test_no_path_says_what_to_reach_first(current: tuple[str, str], target: tuple[str, str], message: str) -> None:
    with pytest.raises(NoPath) as refused:
        upgrade_path(*current, *target)
    assert str(refused.value) == message


def test_flux_waits_for_the_kubernetes_it_needs() -> None:
    stages = upgrade_path("v1.11.2", "v1.32.1", "v1.13.9", "v1.35.2")
    assert flux_ready_stage(stages, "v1.32.1", "v2.9.0") == 2  # after Kubernetes v1.33.6
    assert flux_ready_stage(stages, "v1.32.1", "v2.3.0") == -1  # already satisfied
    assert flux_ready_stage(upgrade_path("v1.11.2", "v1.32.1", "v1.12.11", "v1.32.1"), "v1.32.1", "v2.9.0") is None


_TALOS = [(1, 11), (1, 12), (1, 13)]


@given(st.sampled_from(_TALOS), st.integers(29, 36), st.sampled_from(_TALOS), st.integers(29, 36))
def test_every_intermediate_state_is_supported(t0: tuple[int, int], k0: int, t1: tuple[int, int], k1: int) -> None:
    start = (f"v{t0[0]}.{t0[1]}.0", f"v1.{k0}.0")
    end = (f"v{t1[0]}.{t1[1]}.1", f"v1.{k1}.1")
    try:
        stages = upgrade_path(*start, *end)
    except NoPath:
        return
    t, k = t0, (1, k0)
    for stage in stages:
        minor = parse_version(stage.version)[:2]
        if stage.component == "talos":
            assert minor == (t[0], t[1] + 1) or minor == t  # one Talos minor at a time
            t = minor
        else:
            assert minor == (k[0], k[1] + 1) or minor == k  # one Kubernetes minor at a time
            k = minor
        lo, hi = SUPPORTED_KUBERNETES[t]
        assert lo <= k <= hi, f"Talos {t} with Kubernetes {k} after {stage.label}"
    assert (t, k) == (t1, (1, k1))
    assert stages[-1].final and all(s.final == (s.version in end) for s in stages)
