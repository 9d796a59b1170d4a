"""A burst of saves is one re-plan; files that are not the cluster's specs never trigger one."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.engine.commands.watch import Debouncer
from tests.watch.workcopy import SPEC, WAIT, Replans, edit, reasons


def test_burst_of_saves_collapses_into_one_replan(repo: Path, watch: Callable[..., Replans]) -> None:
    replans = watch(debounce=0.5)
    replans.next()
    memory = 16384
    for step in range(1, 11):  # ten saves in quick succession, as an editor's autosave or a formatter does
        edit(repo, f"    memory: {memory}", f"    memory: {16384 + 512 * step}")
        memory = 16384 + 512 * step
    burst = replans.next()
    assert burst.number == 2
    assert f"talos-worker-01: 4 cores, {memory} MiB" in " ".join(reasons(burst))

    # One more, distinct save: if the burst had caused more than one re-plan, this one would not be number 3.
    edit(repo, "    cores: 4", "    cores: 6")
    after = replans.next()
    assert after.number == 3
    assert "talos-cp-01: 6 cores" in " ".join(reasons(after))


def test_save_by_rename_is_seen(repo: Path, watch: Callable[..., Replans]) -> None:
    replans = watch()
    replans.next()
    spec = repo / SPEC
    temp = spec.with_name(".cluster.yaml.tmp")  # editors that write a temporary file and rename it over
    temp.write_text(spec.read_text().replace("cores: 4", "cores: 8", 1))
    os.replace(temp, spec)
    renamed = replans.next()
    assert (renamed.number, renamed.changed) == (2, (SPEC,))
    assert "talos-cp-01: 8 cores" in " ".join(reasons(renamed))


def test_swap_backup_and_other_clusters_files_do_not_replan(repo: Path, watch: Callable[..., Replans]) -> None:
    replans = watch()
    replans.next()
    home = repo / "clusters/home"
    (home / ".cluster.yaml.swp").write_text("swap")
    (home / "cluster.yaml~").write_text("backup")
    (home / "README.md").write_text("notes")
    (repo / "clusters/other").mkdir()
    (repo / "clusters/other/cluster.yaml").write_text("name: other\n")
    edit(repo, "    cores: 4", "    cores: 6")
    # The spec save is the only thing that counts: it is re-plan 2, caused by the spec alone.
    after = replans.next()
    assert (after.number, after.changed) == (2, (SPEC,))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.sampled_from(["a.yaml", "b.yaml", "c.yml", "secrets.sops.yaml"]), min_size=1, max_size=20))
def test_debouncer_delivers_every_poked_path_once_in_one_call(paths: list[str]) -> None:
    calls: list[tuple[str, ...]] = []
    done = threading.Event()

    def action(changed: tuple[str, ...]) -> None:
        calls.append(changed)
        done.set()

    debouncer = Debouncer(0.05, action)
    for path in paths:  # poked before the thread runs: certainly one burst
        debouncer.poke(path)
    debouncer.start()
    try:
        assert done.wait(WAIT)
    finally:
        debouncer.stop()
    assert calls == [tuple(dict.fromkeys(paths))]


def test_reading_the_spec_is_not_a_change(repo: Path, watch: Callable[..., Replans]) -> None:
    """The planner itself reads the spec on every round: if reads counted, the watcher would re-plan forever."""
    replans = watch()
    replans.next()
    for _ in range(3):
        (repo / SPEC).read_text()
    (repo / "clusters/home/notes.yaml").write_text("a: 1\n")  # a change of another file in the cluster directory
    after = replans.next()
    assert (after.number, after.changed) == (2, ("clusters/home/notes.yaml",))
