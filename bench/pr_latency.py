"""Benchmark: push to a pull request's branch in the lab -> the plan comment is posted (p50 over several pushes).

The lab brings the reference cluster to the Flux hand-off first (the runner applies it from a push to main).
Then each round commits a change to the PR branch, pushes it to the lab's git server and sends the forge's
signed `pull_request` event (the lab's git server sends only push hooks, so the event is sent the way
tests/e2e/test_pull_request_story.py sends it). The clock runs from the push until the forge twin holds
a comment whose plan names the change. Target: p50 <= 5 s.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the e2e helper that sends a signed pull_request event
from runner.cli.lab.session import LabSession  # noqa: E402
from runner.lab.world_inputs import Pace  # noqa: E402
from tests.e2e.labkit import CLUSTER_YAML, edit_cluster, send_pull_request  # noqa: E402

PUSHES = 7
PR = 11
BRANCH = "resize-worker"
TARGET_SECONDS = 5.0
SETTINGS: dict[str, Any] = {"boot_timeout": 60, "flux_timeout": 60}


def worker_memory(memory: int) -> Any:
    def change(doc: Any) -> None:
        next(n for n in doc["nodes"] if n["name"] == "talos-worker-02")["memory"] = memory

    return change


def comment_naming(session: LabSession, text: str) -> bool:
    comments = session.world.forge_state.comments_on(session.settings.full_name, PR)
    return any(text in c.body for c in comments)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-pr-") as tmp:
        session = LabSession(ROOT, Path(tmp), pace=Pace.fast(), settings_overrides=SETTINGS).start()
        try:
            session.seed_clone()
            base = session.push()
            applied = session.wait_for_run(base, timeout=300)
            if applied["result"] != "success":
                raise SystemExit(f"the lab cluster did not converge: {applied['summary']} / {applied['error']}")
            session.world.forge_state.add_pull(session.settings.full_name, PR)
            seconds: list[float] = []
            after_push: list[float] = []
            for i in range(PUSHES):
                memory = 20480 + 1024 * i  # each round's plan names its own new size
                commit = session.commit(
                    {CLUSTER_YAML: edit_cluster(session, worker_memory(memory))}, f"worker {memory} MiB", branch=BRANCH
                )
                started = time.perf_counter()
                session.push(BRANCH)
                pushed = time.perf_counter()
                action = "opened" if i == 0 else "synchronized"
                reply = send_pull_request(
                    session, action=action, number=PR, head_ref=BRANCH, head_sha=commit, base_sha=base
                )
                if reply.status_code != 202:
                    raise SystemExit(f"the runner refused the pull_request event: {reply.status_code} {reply.text}")
                deadline = started + 60
                while not comment_naming(session, str(memory)):
                    if time.perf_counter() > deadline:
                        raise SystemExit(f"no plan comment naming {memory} MiB within 60 s")
                    time.sleep(0.01)
                seconds.append(time.perf_counter() - started)
                after_push.append(time.perf_counter() - pushed)
                session.wait_for_run(commit, mode="plan", timeout=60)  # let the run finish before the next push
        finally:
            session.stop()
    p50 = statistics.median(seconds)
    print(f"push to PR branch -> plan comment posted, {PUSHES} pushes (lab, reference cluster converged)")
    print("seconds: " + " ".join(f"{s:.2f}" for s in seconds))
    print(f"p50 {p50:.2f} s, min {min(seconds):.2f} s, max {max(seconds):.2f} s")
    # The lab's git server runs its post-receive hook (which sends the push webhook) inside `git push`.
    print(f"of which after the push returned: p50 {statistics.median(after_push):.2f} s")
    verdict = "ok" if p50 <= TARGET_SECONDS else "MISSED"
    print(f"target: p50 <= {TARGET_SECONDS:g} s ({p50:.2f} s) -> {verdict}")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
