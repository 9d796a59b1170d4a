"""Settings: env and TOML, documented defaults, and a clear error naming what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.core.errors import Permanent
from runner.engine.settings import Settings, load_settings


def test_missing_required_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RUNNER_REPO_URL", "RUNNER_WEBHOOK_SECRET", "RUNNER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(Permanent) as info:
        load_settings()
    assert "RUNNER_REPO_URL (repo_url): is required" in str(info.value)
    assert "RUNNER_WEBHOOK_SECRET (webhook_secret): is required" in str(info.value)


def test_toml_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "runner.toml"
    config.write_text('repo_url = "https://git.example/acme/homelab.git"\nwebhook_secret = "s3cret-value"\nport = 1\n')
    monkeypatch.setenv("RUNNER_PORT", "9090")
    settings = load_settings(config)
    assert settings.port == 9090  # the environment wins over the file
    assert settings.full_name == "acme/homelab"
    assert settings.webhook_secret.reveal() == "s3cret-value"
    assert "s3cret-value" not in repr(settings) and "s3cret-value" not in settings.model_dump_json()
    with pytest.raises(Permanent, match="not found"):
        load_settings(tmp_path / "absent.toml")


def test_every_setting_is_documented() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_invalid_values_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNNER_CONFIG", raising=False)
    with pytest.raises(Permanent, match="RUNNER_FORGE_KIND"):
        load_settings(repo_url="x", webhook_secret="y", forge_kind="bitbucket")
