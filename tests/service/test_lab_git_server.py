"""The lab git server's post-receive hook delivers a correctly signed, forge-shaped push webhook."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from servicekit import SECRET, Recorder, wait_until

from runner.lab.gitserver import commit_files
from runner.server.signatures import sign


@pytest.mark.parametrize("flavor", ["gitea", "github"])
def test_pygit2_push_runs_the_hook_and_the_runner_accepts_it(lab_git, start_runner, tmp_path, flavor) -> None:
    recorder = Recorder()
    runner = start_runner(recorder)
    lab_git.configure_webhook(f"{runner.url}/hooks/{flavor}", SECRET, flavor)
    work = lab_git.clone(tmp_path / "work")
    sha = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nrev: 9\n"}, "rev 9")
    lab_git.push(work)
    [line] = lab_git.deliveries()
    assert sha in line and " 202 " in line
    wait_until(lambda: any(r["commit_sha"] == sha for r in runner.finished_runs(cluster="home")), what="run")


@contextmanager
def capture() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A plain HTTP endpoint that records every POST it gets (headers lower-cased, body) and answers 200."""
    received: list[tuple[dict[str, str], bytes]] = []

    class Capture(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", received
    finally:
        server.shutdown()


def test_hook_payload_shape_and_signature(lab_git, tmp_path) -> None:
    with capture() as (url, received):
        lab_git.configure_webhook(url, SECRET, "gitea")
        work = lab_git.clone(tmp_path / "work")
        sha = commit_files(work, {"clusters/other/new.yaml": "a: 1\n", "README.md": None}, "add, remove")
        lab_git.push(work)
    [(headers, body)] = received
    assert headers["x-gitea-signature"] == sign(SECRET, body)
    assert headers["x-hub-signature-256"] == "sha256=" + sign(SECRET, body)
    assert headers["x-gitea-event"] == "push" and headers["x-gitea-delivery"]
    payload = json.loads(body)
    assert (payload["ref"], payload["after"], payload["repository"]["full_name"]) == (
        "refs/heads/main",
        sha,
        "lab/home",
    )
    [commit] = payload["commits"]
    assert commit["added"] == ["clusters/other/new.yaml"] and commit["removed"] == ["README.md"]
    assert payload["head_commit"]["id"] == sha and payload["total_commits"] == 1


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git CLI")
def test_real_git_push_runs_the_installed_hook(lab_git, start_runner, tmp_path) -> None:
    runner = start_runner(Recorder())
    lab_git.configure_webhook(f"{runner.url}/hooks/gitea", SECRET, "gitea")
    work = lab_git.clone(tmp_path / "work")
    sha = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nrev: cli\n"}, "via git")
    subprocess.run(["git", "config", "user.email", "t@example.invalid"], cwd=work, check=True)
    assert lab_git.git_push(work) == sha
    wait_until(lambda: any(sha in line for line in lab_git.deliveries()), what="hook delivery")
    wait_until(lambda: any(r["commit_sha"] == sha for r in runner.finished_runs()), what="run")


@pytest.mark.parametrize(("flavor", "header"), [("github", "x-github-delivery"), ("gitea", "x-gitea-delivery")])
def test_a_redelivery_resends_the_payload_with_the_forges_delivery_id(lab_git, tmp_path, flavor, header) -> None:
    """GitHub redelivers with the original X-GitHub-Delivery; Gitea's replay is a new hook task with a new UUID.
    Neither retries a failed delivery by itself: here the first one fails (nothing listens) and only the
    operator's redelivery arrives."""
    with capture() as (url, received):
        lab_git.configure_webhook("http://127.0.0.1:9/", SECRET, flavor)  # nothing listens there: refused
        work = lab_git.clone(tmp_path / "work")
        sha = commit_files(work, {"clusters/home/cluster.yaml": "name: home\nrev: r\n"}, "rev r")
        lab_git.push(work)
        first, _, _, result = lab_git.deliveries()[-1].split(" ", 3)
        assert result.startswith("error") and received == []
        lab_git.configure_webhook(url, SECRET, flavor)
        sent, reply = lab_git.redeliver(first)
    [(headers, body)] = received
    assert reply.startswith("200") and headers[header] == sent
    assert (sent == first) is (flavor == "github")
    assert json.loads(body)["after"] == sha and headers["x-hub-signature-256"] == "sha256=" + sign(SECRET, body)
    assert lab_git.deliveries()[-1].startswith(f"{sent} refs/heads/main {sha} 200")
