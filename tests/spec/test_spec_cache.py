"""An engine parses and checks an unchanged cluster.yaml once; a changed or broken one is read afresh."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner.core.errors import SpecInvalid
from runner.engine.reconcile.load import SpecCache, load_cluster
from runner.engine.reconcile.source import DirSource

ROOT = Path(__file__).resolve().parents[2]
SPEC = "clusters/home/cluster.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "clusters/home", tmp_path / "clusters/home")
    return tmp_path


def test_an_unchanged_spec_is_validated_once(repo: Path) -> None:
    specs = SpecCache()
    first = load_cluster(DirSource(repo), "home", None, specs)
    again = load_cluster(DirSource(repo), "home", None, specs)
    assert again.cluster is first.cluster  # the same object: nothing was parsed the second time
    assert again.warnings == first.warnings


def test_a_changed_spec_is_validated_again(repo: Path) -> None:
    specs = SpecCache()
    first = load_cluster(DirSource(repo), "home", None, specs)
    spec = repo / SPEC
    spec.write_text(
        spec.read_text().replace("diskGb: 128\n  - name: talos-worker-02", "diskGb: 160\n  - name: talos-worker-02")
    )
    changed = load_cluster(DirSource(repo), "home", None, specs)
    assert changed.cluster is not first.cluster
    assert {n.name: n.disk_gb for n in changed.cluster.nodes}["talos-worker-01"] == 160


def test_a_broken_spec_is_refused_every_time_and_never_kept(repo: Path) -> None:
    specs = SpecCache()
    good = (repo / SPEC).read_text()
    (repo / SPEC).write_text(good.replace("cores:", "corez:", 1))
    for _ in range(2):
        with pytest.raises(SpecInvalid, match="unknown field 'corez'"):
            load_cluster(DirSource(repo), "home", None, specs)
    (repo / SPEC).write_text(good)
    assert load_cluster(DirSource(repo), "home", None, specs).cluster.name == "home"
