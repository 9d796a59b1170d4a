"""The git driver reads a commit's files from a bare cache, lists heads and diffs, and never checks out."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.core.errors import Permanent
from runner.drivers.git import GitRepo, remote_heads
from runner.lab.gitserver import commit_files


def test_reads_blobs_and_trees_at_a_commit(lab_git, tmp_path: Path) -> None:
    heads = remote_heads(lab_git.url)
    seed = heads["refs/heads/main"]
    repo = GitRepo(lab_git.url, tmp_path / "cache")
    repo.fetch()
    assert repo.resolve("main") == seed == repo.resolve("refs/heads/main")
    assert b"name: home" in repo.read_file(seed, "clusters/home/cluster.yaml")
    assert [(e.name, e.kind) for e in repo.list_dir(seed, "clusters")] == [("home", "tree"), ("other", "tree")]
    assert repo.blob_id(seed, "clusters/home/cluster.yaml") is not None
    assert repo.blob_id(seed, "clusters/home/missing.yaml") is None
    assert not (tmp_path / "cache" / "repo.git" / "clusters").exists()  # bare: no working tree
    with pytest.raises(Permanent, match="not found"):
        repo.read_file(seed, "clusters/home")


def test_changed_paths_and_ancestry(lab_git, tmp_path: Path) -> None:
    work = lab_git.clone(tmp_path / "work")
    seed = remote_heads(lab_git.url)["refs/heads/main"]
    new = commit_files(work, {"clusters/other/cluster.yaml": "x\n", "README.md": None}, "change")
    lab_git.push(work)
    repo = GitRepo(f"file://{lab_git.url}", tmp_path / "cache")
    repo.ensure_commit(new)
    assert repo.changed_paths(seed, new) == {"clusters/other/cluster.yaml", "README.md"}
    assert "clusters/home/cluster.yaml" in repo.changed_paths(None, new)
    assert repo.is_ancestor(seed, new) and not repo.is_ancestor(new, seed)
    assert repo.merge_base(seed, new) == seed


def test_missing_commit_and_bad_remote_are_permanent(lab_git, tmp_path: Path) -> None:
    repo = GitRepo(lab_git.url, tmp_path / "cache")
    with pytest.raises(Permanent, match="not found"):
        repo.ensure_commit("b" * 40)
    with pytest.raises(Permanent):
        remote_heads(str(tmp_path / "nowhere"))
