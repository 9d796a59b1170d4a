"""Settings of a runner app that a test or a benchmark serves over a throwaway repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.engine.service.settings import Settings


def settings_under(root: Path, *, repo_url: str, webhook_secret: str, **overrides: Any) -> Settings:
    """Journal and git cache under `root`, and no timer of the app's own (drift reconcile, remote polling):
    it runs only what it is sent. `overrides` may set any other setting, or these."""
    values: dict[str, Any] = {
        "repo_url": repo_url,
        "repo_full_name": "lab/home",
        "webhook_secret": webhook_secret,
        "db_path": root / "runner.db",
        "cache_dir": root / "cache",
        "drift_interval": 0,
        "poll_interval": 0,
    }
    return Settings(**{**values, **overrides})
