from __future__ import annotations

from pathlib import Path

import typer

from runner.server.__main__ import main as serve_main


def serve(
    config: Path | None = typer.Option(None, "--config", help="TOML settings file (RUNNER_* variables win over it)"),
) -> None:
    """Run the service: webhooks, queue, drift timer, JSON API, web UI, /metrics."""
    raise typer.Exit(serve_main(["--config", str(config)] if config else []))


def register(app: typer.Typer) -> None:
    app.command()(serve)
