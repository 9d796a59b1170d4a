"""Which clusters a commit touches: its own directory, or everything when flux/ changes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML
from servicekit import HERE, Recorder, push_body, wait_until

from runner.engine.service.touched import touched_clusters
from runner.lab.gitserver import commit_files

COMMITS = YAML(typ="safe", pure=True).load((HERE / "data" / "touching_commits.yaml").read_text())


def settle_first_apply(runner, lab_git) -> str:  # type: ignore[no-untyped-def]
    import pygit2

    seed = str(pygit2.Repository(lab_git.url).references["refs/heads/main"].target)
    runner.hook("github", push_body(seed))
    wait_until(lambda: len(runner.finished_runs()) == 2 and not runner.service.queue.items(), what="first apply")
    return seed


@pytest.mark.parametrize("commit", COMMITS, ids=[c["id"] for c in COMMITS])
def test_a_commit_runs_the_clusters_it_touches(commit, lab_git, start_runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    runner = start_runner(recorder)
    settle_first_apply(runner, lab_git)
    work = lab_git.clone(tmp_path / "work")
    sha = commit_files(work, commit["files"], commit["message"])
    lab_git.push(work)
    runner.hook("github", push_body(sha))
    expected = commit["runs"]
    wait_until(
        lambda: len(runner.finished_runs()) >= 2 + len(expected) and not runner.service.queue.items(),
        what=f"the runs of {commit['id']}",
    )
    assert sorted(r["cluster"] for r in runner.finished_runs() if r["commit_sha"] == sha) == expected
    assert len(runner.finished_runs()) == 2 + len(expected)  # nothing else ran
    assert recorder.clusters().count("home") == 1 + expected.count("home")


names = st.sampled_from(["home", "other", "lab"])
paths = st.one_of(
    st.builds(lambda c, f: f"clusters/{c}/{f}", names, st.sampled_from(["cluster.yaml", "secrets.sops.yaml"])),
    st.builds(lambda f: f"flux/{f}", st.sampled_from(["apps/x.yaml", "clusters/home/k.yaml"])),
    st.sampled_from(["README.md", "clusters/README.md", "docs/clusters/home/x.md", "fluxx/y"]),
)


@given(st.lists(paths, max_size=10), st.sets(names))
def test_touched_clusters_invariants(changed, clusters) -> None:  # type: ignore[no-untyped-def]
    touched = touched_clusters(changed, clusters)
    assert touched <= clusters
    if any(p.startswith("flux/") for p in changed):
        assert touched == clusters
    else:
        assert (
            touched == {p.split("/")[1] for p in changed if p.startswith("clusters/") and p.count("/") >= 2} & clusters
        )
