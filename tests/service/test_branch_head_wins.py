"""The protected branch's head wins, whatever order the forge's deliveries arrive in, and no delivery that was
answered 2xx is lost, also across a kill -9 of a real `runner serve` process.

In GitOps the branch head is the truth (Flux reconciles the head, not an event): a run applies the newest commit
on the branch as fetched when it starts, an older delivery never replaces a newer pending one and never runs
after it, and each run says which deliveries it covered.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import httpx
import pygit2
import pytest
from serveproc import Push, ServeProcess, pushes
from servicekit import SECRET, wait_until

from runner.lab.gitserver import LabGitServer, commit_files


@pytest.fixture
def serve(tmp_path: Path, lab_git: LabGitServer) -> Iterator[Callable[..., ServeProcess]]:
    made: list[ServeProcess] = []

    def make(*, start: bool = True, **settings: str) -> ServeProcess:
        (tmp_path / "serve").mkdir(exist_ok=True)
        runner = ServeProcess(tmp_path / "serve", lab_git, settings)
        made.append(runner)
        return runner.start() if start else runner

    yield make
    for runner in made:
        runner.stop()


def linear_history(lab_git: LabGitServer, tmp_path: Path, count: int) -> list[str]:
    """`count` commits on main, each changing the home cluster, pushed together (the forge announces each)."""
    work = lab_git.clone(tmp_path / "history")
    commits = [
        commit_files(work, {"clusters/home/cluster.yaml": f"name: home\nrev: {i}\n"}, f"rev {i}") for i in range(count)
    ]
    lab_git.push(work)
    return commits


def never_back(lab_git: LabGitServer, applied: list[str]) -> bool:
    """Each applied commit contains the one applied before it: the cluster never went back to an older commit."""
    repo = pygit2.Repository(lab_git.url)
    return all(
        new == old or repo.descendant_of(pygit2.Oid(hex=new), pygit2.Oid(hex=old))
        for old, new in itertools.pairwise(applied)
    )


def covering_run(runner: ServeProcess, lab_git: LabGitServer, push: Push) -> dict[str, object] | None:
    """The successful apply of home that lists `push`'s delivery and whose commit contains `push`'s commit."""
    repo = pygit2.Repository(lab_git.url)
    for run in runner.runs(cluster="home", mode="apply", result="success"):
        sha = str(run["commit_sha"])
        contains = sha == push.commit or repo.descendant_of(pygit2.Oid(hex=sha), pygit2.Oid(hex=push.commit))
        if push.delivery in run["deliveries"] and contains:
            return run
    return None


def test_ten_concurrent_pushes_of_a_linear_history_apply_the_head_exactly_once(lab_git, serve, tmp_path) -> None:
    runner = serve()
    commits = linear_history(lab_git, tmp_path, 10)
    sent = pushes(lab_git, commits)
    start = threading.Barrier(len(sent))

    def deliver(push: Push) -> int:
        start.wait()  # all ten at once, as a forge's delivery workers send them
        return runner.deliver(push).status_code

    with ThreadPoolExecutor(len(sent)) as pool:
        codes = list(pool.map(deliver, sent))
    assert codes == [202] * len(sent)
    wait_until(runner.quiet, 60, "every delivery worked off")
    assert runner.applied("home") == [commits[-1]], [c[:7] for c in commits]
    [run] = runner.runs(cluster="home")
    assert sorted(run["deliveries"]) == sorted(p.delivery for p in sent)
    detail = runner.get(f"/api/runs/{run['id']}")
    assert sorted(detail["deliveries"]) == sorted(p.delivery for p in sent)


def test_an_older_push_redelivered_after_a_newer_one_is_never_applied_after_it(lab_git, serve, tmp_path) -> None:
    runner = serve()
    lab_git.configure_webhook(f"{runner.url}/hooks/github", SECRET, "github")
    work = lab_git.clone(tmp_path / "work")
    seed = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nrev: 0\n"}, "rev 0")
    lab_git.push(work)
    wait_until(lambda: runner.applied("home") == [seed] and runner.quiet(), 60, "the first push applied")

    runner.kill()
    a = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nrev: A\n"}, "rev A")
    lab_git.push(work)  # the forge cannot reach the runner: delivery A fails
    a_id, _, _, a_result = lab_git.deliveries()[-1].split(" ", 3)
    assert a_result.startswith("error"), a_result

    runner.start()
    b = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nrev: B\n"}, "rev B")
    lab_git.push(work)
    b_id, _, _, b_result = lab_git.deliveries()[-1].split(" ", 3)
    assert b_result.startswith("202"), b_result
    sent, reply = lab_git.redeliver(a_id)  # the operator redelivers what failed while the runner was down
    assert (sent, reply.split(" ", 1)[0]) == (a_id, "202")

    wait_until(runner.quiet, 60, "both deliveries worked off")
    applied = runner.applied("home")
    assert applied == [seed, b], {"seed": seed[:7], "A": a[:7], "B": b[:7], "applied": [c[:7] for c in applied]}
    [run] = [r for r in runner.runs(cluster="home") if r["commit_sha"] == b]
    assert {a_id, b_id} <= set(run["deliveries"])


def test_kill_9_mid_intake_loses_no_delivery_answered_2xx(lab_git, serve, tmp_path) -> None:
    runner = serve()
    commits = linear_history(lab_git, tmp_path, 40)
    sent = pushes(lab_git, commits)
    answered: list[Push] = []
    unanswered: list[Push] = []

    def deliver(push: Push) -> tuple[Push, int | None]:
        try:
            return push, runner.deliver(push).status_code
        except httpx.TransportError:  # refused, or cut off by the kill: the forge shows it as failed
            return push, None

    with ThreadPoolExecutor(8) as pool:
        for future in as_completed([pool.submit(deliver, push) for push in sent]):
            push, code = future.result()
            (answered if code is not None and 200 <= code < 300 else unanswered).append(push)
            if len(answered) == 5:
                runner.kill()  # while the other deliveries are being taken in
    assert answered and unanswered, (len(answered), len(unanswered))

    runner.start()
    wait_until(runner.quiet, 60, "the deliveries taken before the kill worked off")
    lost = [p.delivery for p in answered if covering_run(runner, lab_git, p) is None]
    assert lost == [], f"answered 2xx, then never covered by an apply: {lost}"

    for push in unanswered:  # the operator redelivers what failed; GitHub keeps the delivery id
        assert runner.deliver(push).status_code in (200, 202)
    wait_until(runner.quiet, 60, "the redeliveries worked off")
    assert [p.delivery for p in sent if covering_run(runner, lab_git, p) is None] == []
    applied = runner.applied("home")
    assert applied[-1] == commits[-1] and never_back(lab_git, applied), [c[:7] for c in applied]
