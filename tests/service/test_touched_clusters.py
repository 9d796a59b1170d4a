"""Which clusters a commit touches: its own directory, or everything when flux/ changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from servicekit import Recorder, push_body, wait_until

from runner.engine.worker import touched_clusters
from runner.lab.gitserver import commit_files


def settle_first_apply(runner, lab_git) -> str:  # type: ignore[no-untyped-def]
    import pygit2

    seed = str(pygit2.Repository(lab_git.url).references["refs/heads/main"].target)
    runner.hook("github", push_body(seed))
    wait_until(lambda: len(runner.finished_runs()) == 2 and not runner.service.queue.items(), what="first apply")
    return seed


def test_commit_touching_only_other_skips_home(lab_git, start_runner, tmp_path) -> None:
    recorder = Recorder()
    runner = start_runner(recorder)
    settle_first_apply(runner, lab_git)
    work = lab_git.clone(tmp_path / "work")
    sha = commit_files(work, {"clusters/other/cluster.yaml": "name: other\nrev: 2\n"}, "other only")
    lab_git.push(work)
    runner.hook("github", push_body(sha))
    wait_until(lambda: len(runner.finished_runs()) == 3 and not runner.service.queue.items(), what="other run")
    assert [r["cluster"] for r in runner.finished_runs() if r["commit_sha"] == sha] == ["other"]
    assert recorder.clusters().count("home") == 1


def test_flux_change_touches_every_cluster(lab_git, start_runner, tmp_path) -> None:
    runner = start_runner(Recorder())
    settle_first_apply(runner, lab_git)
    work = lab_git.clone(tmp_path / "work")
    sha = commit_files(work, {"flux/clusters/home/kustomization.yaml": "resources: [a.yaml]\n"}, "flux")
    lab_git.push(work)
    runner.hook("github", push_body(sha))
    wait_until(lambda: len(runner.finished_runs()) == 4, what="flux runs")
    assert sorted(r["cluster"] for r in runner.finished_runs() if r["commit_sha"] == sha) == ["home", "other"]


def test_readme_change_runs_nothing(lab_git, start_runner, tmp_path) -> None:
    runner = start_runner(Recorder())
    settle_first_apply(runner, lab_git)
    work = lab_git.clone(tmp_path / "work")
    sha = commit_files(work, {"README.md": "more docs\n"}, "docs")
    lab_git.push(work)
    runner.hook("github", push_body(sha))
    wait_until(lambda: not runner.service.queue.items(), what="expansion")
    assert len(runner.finished_runs()) == 2


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
