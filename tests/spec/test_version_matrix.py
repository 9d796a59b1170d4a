"""Versions go together as upstream says: `runner validate` on Talos/Kubernetes pairs, and the tables' invariants."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.core.talos.contract import SUPPORTED_TALOS_MINORS
from runner.core.versions import FLUX_MINIMUM_KUBERNETES, SUPPORTED_KUBERNETES, compatibility_problem, flux_problem
from tests.spec.test_schema_and_cli import ROOT, runner_cli


def _home_at(tmp_path: Path, talos: str, kubernetes: str) -> str:
    """A copy of the reference cluster at other versions; returns the spec's text."""
    cluster = tmp_path / "clusters/home"
    shutil.copytree(ROOT / "clusters/home", cluster)
    spec = cluster / "cluster.yaml"
    text = spec.read_text()
    # whatever the reference cluster pins today
    text = re.sub(r"talos:\n  version: \S+", f"talos:\n  version: {talos}", text, count=1)
    text = re.sub(r"kubernetes:\n  version: \S+", f"kubernetes:\n  version: {kubernetes}", text, count=1)
    assert f"version: {talos}" in text and f"version: {kubernetes}" in text
    spec.write_text(text)
    return text


@pytest.mark.parametrize(
    ("talos", "kubernetes"),
    [("v1.11.2", "v1.32.1"), ("v1.12.11", "v1.34.6"), ("v1.13.9", "v1.35.4"), ("v1.13.9", "v1.36.3")],
)
def test_runner_validate_accepts_a_supported_pair(tmp_path: Path, talos: str, kubernetes: str) -> None:
    _home_at(tmp_path, talos, kubernetes)
    result = runner_cli("validate", "clusters/home", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"Talos {talos}, Kubernetes {kubernetes}" in " ".join(result.stdout.split())  # the console wraps lines


def test_runner_validate_refuses_talos_1_13_with_kubernetes_1_30_at_its_line(tmp_path: Path) -> None:
    text = _home_at(tmp_path, "v1.13.9", "v1.30.14")
    result = runner_cli("validate", "clusters/home", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    line = text.splitlines().index("  version: v1.30.14") + 1
    assert (
        f"clusters/home/cluster.yaml:{line}:3: kubernetes.version: Kubernetes v1.30 is not supported by Talos v1.13 "
        "(supported: v1.31 to v1.36); a cluster on Kubernetes v1.30 reaches Talos v1.12 first"
    ) in result.stderr


minors = st.tuples(st.just(1), st.integers(20, 40))


@given(talos=st.sampled_from(sorted(SUPPORTED_KUBERNETES)), kubernetes=minors)
def test_a_pair_is_refused_exactly_outside_the_matrix_and_the_talos_it_names_runs_that_kubernetes(
    talos: tuple[int, int], kubernetes: tuple[int, int]
) -> None:
    lo, hi = SUPPORTED_KUBERNETES[talos]
    why = compatibility_problem(f"v{talos[0]}.{talos[1]}.0", f"v{kubernetes[0]}.{kubernetes[1]}.0")
    assert (why is None) == (lo <= kubernetes <= hi)
    if why and "reach" in why:
        # The Talos the message sends the cluster to first does run this Kubernetes.
        first = why.rsplit("Talos v", 1)[-1] if "needs Talos" in why else why.split("reaches Talos v", 1)[1]
        named = tuple(int(p) for p in first.split(" ", 1)[0].split(".")[:2])
        a, b = SUPPORTED_KUBERNETES[named]  # type: ignore[index]
        assert a <= kubernetes <= b


def test_every_talos_the_runner_writes_configs_for_is_in_the_matrix() -> None:
    assert set(SUPPORTED_TALOS_MINORS) <= set(SUPPORTED_KUBERNETES)


@given(flux=st.sampled_from(sorted(FLUX_MINIMUM_KUBERNETES)), kubernetes=minors)
def test_flux_refuses_exactly_the_kubernetes_below_its_minimum(
    flux: tuple[int, int], kubernetes: tuple[int, int]
) -> None:
    why = flux_problem(f"v{flux[0]}.{flux[1]}.0", f"v{kubernetes[0]}.{kubernetes[1]}.0")
    assert (why is None) == (kubernetes >= FLUX_MINIMUM_KUBERNETES[flux])


def test_a_flux_missing_from_the_table_is_refused_rather_than_guessed() -> None:
    assert flux_problem("v2.10.0", "v1.36.0") == (
        "Flux v2.10 has no minimum Kubernetes version in the runner's table (known: v2.0, v2.1, v2.2, v2.3, v2.4, "
        "v2.5, v2.6, v2.7, v2.8, v2.9)"
    )
