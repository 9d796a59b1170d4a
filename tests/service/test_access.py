"""The UI, the JSON API and /openapi.json need a token once the server listens beyond loopback; probes
and (HMAC-signed) hooks stay open. Checked against a real `python -m runner.server` process."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servicekit import SECRET, wait_until

from runner.lab.serve import free_port

TOKEN = "an-api-token-for-tests-0123"


def serve(tmp_path: Path, **settings: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNER_")}
    env |= {
        "RUNNER_REPO_URL": str(tmp_path / "origin.git"),
        "RUNNER_WEBHOOK_SECRET": SECRET,
        "RUNNER_DB_PATH": str(tmp_path / "runner.db"),
        "RUNNER_CACHE_DIR": str(tmp_path / "cache"),
        "RUNNER_DRIFT_INTERVAL": "0",
        "RUNNER_POLL_INTERVAL": "0",
        "RUNNER_PORT": str(port),
        **{f"RUNNER_{k.upper()}": v for k, v in settings.items()},
    }
    command = [sys.executable, "-m", "runner.server", "--run-fn", "runner.server.inspect_run:inspect_run"]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def off_loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, url = serve(tmp_path_factory.mktemp("served"), host="0.0.0.0", api_token=TOKEN)

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, 30, "the server")
    yield url
    process.terminate()
    process.wait(10)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(
    "path", ["/", "/runs", "/api/runs", "/api/queue", "/api/deliveries", "/openapi.json", "/metrics"]
)
def test_every_page_and_api_needs_the_token_off_loopback(off_loopback: str, path: str) -> None:
    refused = httpx.get(off_loopback + path)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith('Basic realm="runner"')
    assert httpx.get(off_loopback + path, headers={"Authorization": "Bearer wrong-token"}).status_code == 401
    assert httpx.get(off_loopback + path, headers=basic("runner", "wrong")).status_code == 401
    assert httpx.get(off_loopback + path, headers=basic("someone", TOKEN)).status_code == 401
    assert httpx.get(off_loopback + path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert httpx.get(off_loopback + path, headers=basic("runner", TOKEN)).status_code == 200


def test_probes_are_open_and_hooks_answer_to_their_signature_only(off_loopback: str) -> None:
    assert httpx.get(f"{off_loopback}/healthz").status_code == 200
    assert httpx.get(f"{off_loopback}/readyz").status_code in (200, 503)  # its own answer, never a 401
    hook = httpx.post(f"{off_loopback}/hooks/github", content=b"{}", headers={"X-GitHub-Event": "push"})
    assert hook.status_code == 401 and hook.json()["reason"] == "missing signature"
    # The API token is not a webhook credential.
    hook = httpx.post(f"{off_loopback}/hooks/github", content=b"{}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert hook.status_code == 401 and hook.json()["reason"] == "missing signature"


def test_metrics_may_be_opened_for_a_scraper(tmp_path: Path) -> None:
    process, url = serve(tmp_path, host="0.0.0.0", api_token=TOKEN, metrics_open="true")
    try:
        wait_until(lambda: _status(f"{url}/healthz") == 200, 30, "the server")
        assert _status(f"{url}/metrics") == 200
        assert _status(f"{url}/api/runs") == 401
    finally:
        process.terminate()
        process.wait(10)


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=1).status_code
    except httpx.HTTPError:
        return 0


@pytest.mark.parametrize("token", [None, "short"])
def test_refuses_to_listen_beyond_loopback_without_a_real_token(tmp_path: Path, token: str | None) -> None:
    extra = {"api_token": token} if token else {}
    process, _ = serve(tmp_path, host="0.0.0.0", **extra)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "Traceback" not in stderr
    assert "host=0.0.0.0 listens beyond loopback: set api_token (RUNNER_API_TOKEN" in stderr
