"""Settings: env and TOML, documented defaults, and a clear error naming what is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.core.errors import Permanent
from runner.engine.service.settings import Settings, load_settings


def test_missing_required_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RUNNER_REPO_URL", "RUNNER_WEBHOOK_SECRET", "RUNNER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(Permanent) as info:
        load_settings()
    assert "RUNNER_REPO_URL (repo_url): is required" in str(info.value)
    assert "RUNNER_WEBHOOK_SECRET (webhook_secret): is required" in str(info.value)


def test_toml_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "runner.toml"
    config.write_text(
        'repo_url = "https://git.example/acme/homelab.git"\nwebhook_secret = "s3cret-value-0123456"\nport = 1\n'
    )
    monkeypatch.setenv("RUNNER_PORT", "9090")
    settings = load_settings(config)
    assert settings.port == 9090  # the environment wins over the file
    assert settings.full_name == "acme/homelab"
    assert settings.webhook_secret.reveal() == "s3cret-value-0123456"
    assert "s3cret-value" not in repr(settings) and "s3cret-value" not in settings.model_dump_json()
    with pytest.raises(Permanent, match="not found"):
        load_settings(tmp_path / "absent.toml")


def test_every_setting_is_documented() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_invalid_values_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNNER_CONFIG", raising=False)
    with pytest.raises(Permanent, match="RUNNER_FORGE_KIND"):
        load_settings(repo_url="x", webhook_secret="y" * 16, forge_kind="bitbucket")


GOOD = 'repo_url = "https://git.example/acme/homelab.git"\nwebhook_secret = "a-long-enough-secret"\n'


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('repo_url = "x"\nwebhook_secret = [unclosed\n', "runner.toml: not valid TOML"),
        ('repo_url = "x"\nwebhook_secret = "short"\n', "RUNNER_WEBHOOK_SECRET (webhook_secret): must be at least 16"),
        ('repo_url = "x"\nwebhook_secret = ""\n', "must be at least 16 characters"),
        (GOOD + 'address_map = { "10.0.0.11" = "here" }\n', "both sides must be host:port"),
        (GOOD + 'db_path = "{tmp}/corrupt.db"\n', "corrupt.db: cannot use it as the runner's database"),
        (GOOD + 'db_path = "{tmp}/afile/runner.db"\n', "afile/runner.db: cannot use it as the runner's database"),
        (GOOD + 'host = "0.0.0.0"\n', "host=0.0.0.0 listens beyond loopback: set api_token"),
    ],
)
def test_serve_refuses_bad_settings_with_one_clear_message(tmp_path: Path, toml: str, says: str) -> None:
    import subprocess
    import sys

    (tmp_path / "corrupt.db").write_bytes(b"this is not a database file, just text " * 100)
    (tmp_path / "afile").write_text("a file where a directory should be")
    config = tmp_path / "runner.toml"
    config.write_text(toml.replace("{tmp}", str(tmp_path)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNER_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "runner.server",
            "--config",
            str(config),
            "--run-fn",
            "runner.server.inspect_run:inspect_run",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert says in done.stderr
    assert done.stderr.startswith("error: ")
